// Package typedparam is libvirt's typed parameters (virTypedParameter) as
// clients send them: their types, and the checks libvirt's daemon makes of
// a list it receives, with libvirt's errors (virTypedParamsDeserialize,
// virTypedParamsValidate in src/util/virtypedparam.c). It knows no
// procedure: callers say which parameters they take.
package typedparam

import (
	"cmp"
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Type is a parameter's type, the union's discriminant on the wire
// (virTypedParameterType).
type Type = uint32

// The types.
const (
	Int     Type = 1
	UInt    Type = 2
	LLong   Type = 3
	ULLong  Type = 4
	Double  Type = 5
	Boolean Type = 6
	String  Type = 7
)

// FieldLength is VIR_TYPED_PARAM_FIELD_LENGTH: a field name and its
// terminating NUL fit in it.
const FieldLength = 80

// typeNames are virTypedParameterTypeToString's names, by number.
var typeNames = []string{"unknown", "int", "uint", "llong", "ullong", "double", "boolean", "string"}

// TypeName is virTypedParameterTypeToString, "unknown" for a type it does
// not know (as virTypedParamsValidate words it).
func TypeName(t Type) string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return typeNames[0]
}

// CheckFields is the check virTypedParamsDeserialize makes of each field
// name, in the order sent: it must fit libvirt's fixed-size field. (Its
// other checks are the XDR decoder's here: a list longer than the
// protocol's limit, or of an unknown type, does not decode.)
func CheckFields(params []libvirt.TypedParam) error {
	for _, p := range params {
		if len(p.Field) >= FieldLength {
			return virerr.New(virerr.FromNone, libvirt.ErrInternalError, "parameter %s too big for destination", p.Field)
		}
	}
	return nil
}

// Validate is virTypedParamsValidate: every parameter must be one of
// allowed, of the type allowed gives it, and occur once. Like libvirt it
// walks the parameters sorted by name (a stable sort, as glib's), so the
// first problem in that order is the one reported.
func Validate(params []libvirt.TypedParam, allowed map[string]Type) error {
	sorted := slices.Clone(params)
	slices.SortStableFunc(sorted, func(a, b libvirt.TypedParam) int { return cmp.Compare(a.Field, b.Field) })
	for i, p := range sorted {
		want, ok := allowed[p.Field]
		switch {
		case !ok:
			return virerr.New(virerr.FromNone, libvirt.ErrArgumentUnsupported, "parameter '%s' not supported", p.Field)
		case i > 0 && sorted[i-1].Field == p.Field:
			return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "parameter '%s' occurs multiple times", p.Field)
		case p.Value.D != want:
			return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
				"invalid type '%s' for parameter '%s', expected '%s'", TypeName(p.Value.D), p.Field, TypeName(want))
		}
	}
	return nil
}
