package typedparam

import (
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"
)

// List is a list of parameters a daemon returns, built as libvirt's
// virTypedParamList is (virTypedParamListAdd*): in order, the name
// formatted from a pattern.
type List []libvirt.TypedParam

func (l *List) add(v *libvirt.TypedParamValue, format string, args []any) {
	name := format
	if len(args) > 0 {
		name = fmt.Sprintf(format, args...)
	}
	*l = append(*l, libvirt.TypedParam{Field: name, Value: *v})
}

// AddInt appends an int parameter.
func (l *List) AddInt(v int32, format string, args ...any) {
	l.add(libvirt.NewTypedParamValueInt(v), format, args)
}

// AddUInt appends an unsigned int parameter.
func (l *List) AddUInt(v uint32, format string, args ...any) {
	l.add(libvirt.NewTypedParamValueUint(v), format, args)
}

// AddLLong appends a long long parameter.
func (l *List) AddLLong(v int64, format string, args ...any) {
	l.add(libvirt.NewTypedParamValueLlong(v), format, args)
}

// AddULLong appends an unsigned long long parameter.
func (l *List) AddULLong(v uint64, format string, args ...any) {
	l.add(libvirt.NewTypedParamValueUllong(v), format, args)
}

// AddBoolean appends a boolean parameter.
func (l *List) AddBoolean(v bool, format string, args ...any) {
	b := int32(0)
	if v {
		b = 1
	}
	l.add(libvirt.NewTypedParamValueBoolean(b), format, args)
}

// AddString appends a string parameter.
func (l *List) AddString(v string, format string, args ...any) {
	l.add(libvirt.NewTypedParamValueString(v), format, args)
}
