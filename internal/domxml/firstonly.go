package domxml

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"

	"libvirt.org/go/libvirtxml"
)

// libvirt reads an element it takes once with virXPathNode, which gives the
// first of that name, and ignores any other; encoding/xml decodes every one
// into the same field, the later ones' values over the earlier's. Our checks
// read the tree as libvirt does (node.child: the first), so without this a
// repeated <target> had its first checked and its last kept (a bus libvirt
// refuses, formatted into a definition that no longer read: FuzzParse,
// 2be9bd9c2090b407). The text libvirtxml decodes is therefore cut of every
// element that repeats one its field in libvirtxml's types takes once.
// (libvirt reads devices with "./devices/disk" and the like, which take the
// devices of a repeated <devices> too; we, like our checks, take the
// first's.)

// The types of a domain and of its devices, as libvirtxml decodes them.
var (
	domainType     = reflect.TypeFor[libvirtxml.Domain]()
	deviceListType = reflect.TypeFor[libvirtxml.DomainDeviceList]()
)

// accumulating are the types libvirtxml decodes more than one element into,
// each adding to it: a UDP character device's two <source>, of mode bind
// and connect, as libvirt writes them.
var accumulating = map[reflect.Type]bool{reflect.TypeFor[libvirtxml.DomainChardevSource](): true}

// textEdit replaces doc[at:end] with insert.
type textEdit struct {
	at, end int
	insert  string
}

// applyEdits makes edits, which do not overlap, to doc.
func applyEdits(doc string, edits []textEdit) string {
	if len(edits) == 0 {
		return doc
	}
	slices.SortFunc(edits, func(a, b textEdit) int { return cmp.Compare(a.at, b.at) })
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(doc[last:e.at])
		b.WriteString(e.insert)
		last = e.end
	}
	b.WriteString(doc[last:])
	return b.String()
}

// repeatCuts is the edits that cut from the text of n (decoded into a t,
// a struct type; nil cuts nothing) every element after the first of a
// name that a field of t, or of the types below it, takes once.
func repeatCuts(n *node, t reflect.Type) []textEdit {
	var cuts []textEdit
	if t != nil {
		collectRepeats(n, t, &cuts)
	}
	return cuts
}

func collectRepeats(n *node, t reflect.Type, cuts *[]textEdit) {
	fields := childFields(t)
	var seen []string // the names taken once met so far: a few at most
	for _, k := range n.kids {
		if k.isTxt {
			continue
		}
		name := k.localName()
		f, known := fields[name]
		if !known {
			continue
		}
		if !f.many {
			if slices.Contains(seen, name) {
				*cuts = append(*cuts, textEdit{at: k.start, end: k.end})
				continue
			}
			seen = append(seen, name)
		}
		if f.elem != nil {
			collectRepeats(k, f.elem, cuts)
		}
	}
}

// childField is what a struct type's field makes of a child element of
// its name: many (a slice) or one, and the struct type it decodes into
// (nil for a value, or a type that decodes it some other way).
type childField struct {
	many bool
	elem reflect.Type
}

var childFieldsOf sync.Map // reflect.Type → map[string]childField

// childFields is the child elements t's fields decode, by local name, as
// encoding/xml matches them; the outer element of a "a>b" path is left
// out, as every one of them adds to the same fields.
func childFields(t reflect.Type) map[string]childField {
	if m, ok := childFieldsOf.Load(t); ok {
		return m.(map[string]childField)
	}
	m := map[string]childField{}
	addChildFields(m, t)
	childFieldsOf.Store(t, m)
	return m
}

func addChildFields(m map[string]childField, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("xml")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct {
			addChildFields(m, f.Type)
			continue
		}
		if !f.IsExported() || name == "-" || opts != "" && opts != "omitempty" || f.Name == "XMLName" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, local, ok := strings.Cut(name, " "); ok {
			name = local // "namespace local"
		}
		if strings.Contains(name, ">") {
			continue
		}
		ft, many := f.Type, false
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			ft, many = ft.Elem(), true
		}
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		var elem reflect.Type
		switch {
		case accumulating[ft]:
			many = true
		case ft.Kind() == reflect.Struct:
			elem = ft
		}
		m[name] = childField{many: many, elem: elem}
	}
}
