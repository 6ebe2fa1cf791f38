package domxml

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// schemaFile is what libvirt validates a domain against, named in its
// error message.
const schemaFile = "/usr/share/libvirt/schemas/domain.rng"

// ValidateSchema is the check behind VIR_DOMAIN_DEFINE_VALIDATE and
// VIR_DOMAIN_START_VALIDATE: libvirt validates the document against its
// Relax NG schema and refuses any element or attribute the schema does
// not know. libvirtxml models that schema, so what it reads and writes
// back is what the schema knows; anything of the input missing from that
// round trip is reported in libxml2's words. Foreign namespaces and the
// free-form metadata are left alone, as the schema leaves them.
func ValidateSchema(doc string) error {
	in, err := parseDocument(doc)
	if err != nil {
		return err
	}
	d, err := unmarshal(doc)
	if err != nil {
		return err
	}
	raw, err := xml.Marshal(d)
	if err != nil {
		return internalErr("cannot format domain XML: %v", err)
	}
	out, err := parseTree(string(raw))
	if err != nil {
		return internalErr("cannot format domain XML: %v", err)
	}
	if msg := schemaDiff(in, out); msg != "" {
		return virerr.New(virerr.FromXML, libvirt.ErrXMLInvalidSchema,
			"Unable to validate doc against %s\n%s\n", schemaFile, msg)
	}
	return nil
}

// schemaDiff names the first attribute or child of in that out lacks.
// Children pair up by name, in order. An empty element or attribute that
// libvirtxml drops (omitempty) is not taken for an unknown one when the
// model knows its name somewhere.
func schemaDiff(in, out *node) string {
	for _, a := range in.attrs {
		if foreign(a.name) || hasAttr(out, a.name) || (a.value == "" && modelNames().attrs[a.name]) {
			continue
		}
		return fmt.Sprintf("Invalid attribute %s for element %s", a.name, in.name)
	}
	if in.name == "metadata" {
		return ""
	}
	seen := map[string]int{}
	for _, k := range in.kids {
		if k.isTxt || foreign(k.name) {
			continue
		}
		i := seen[k.name]
		seen[k.name]++
		match := nthChild(out, k.name, i)
		if match == nil {
			if isEmpty(k) && modelNames().elems[k.name] {
				continue
			}
			return fmt.Sprintf("Element %s has extra content: %s", in.name, k.name)
		}
		if msg := schemaDiff(k, match); msg != "" {
			return msg
		}
	}
	return ""
}

// foreign: namespaced names (xmlns declarations, qemu:commandline and
// the like) belong to other schemas.
func foreign(name string) bool {
	return name == "xmlns" || strings.Contains(name, ":")
}

func hasAttr(n *node, name string) bool {
	for _, a := range n.attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

func nthChild(n *node, name string, i int) *node {
	for _, k := range n.kids {
		if !k.isTxt && k.name == name {
			if i == 0 {
				return k
			}
			i--
		}
	}
	return nil
}

// isEmpty: no attributes with a value, no child elements, no text.
func isEmpty(n *node) bool {
	for _, a := range n.attrs {
		if a.value != "" {
			return false
		}
	}
	for _, k := range n.kids {
		if !k.isTxt || strings.TrimSpace(k.text) != "" {
			return false
		}
	}
	return true
}

type names struct{ elems, attrs map[string]bool }

// modelNames are every element and attribute name libvirtxml's domain
// model declares, found once from its struct tags.
var modelNames = sync.OnceValue(func() names {
	n := names{map[string]bool{}, map[string]bool{}}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("xml"), ",")
			if tag != "" && tag != "-" {
				set := n.elems
				if strings.Contains(opts, "attr") {
					set = n.attrs
				}
				for _, part := range strings.Split(tag, ">") {
					_, local, ok := strings.Cut(part, " ")
					if !ok {
						local = part
					}
					set[local] = true
				}
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(libvirtxml.Domain{}))
	return n
})
