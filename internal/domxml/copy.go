package domxml

import (
	"reflect"
	"sync"

	"libvirt.org/go/libvirtxml"
)

// Copy returns a deep copy of d. Every format copies the definition it
// writes (the format rules change it), so the copy is a walk of the
// structure rather than an XML round trip, which cost a define more than
// the formatting itself.
func Copy(d *libvirtxml.Domain) *libvirtxml.Domain {
	if d == nil {
		return nil
	}
	c := new(libvirtxml.Domain)
	deepCopy(reflect.ValueOf(c).Elem(), reflect.ValueOf(d).Elem())
	return c
}

// deepCopy sets dst, a settable value, to a copy of src sharing no
// pointer, slice or map with it. libvirtxml's types are exported structs
// of those and of plain values.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Struct:
		// The plain fields in one assignment, then the deep ones again:
		// most of a definition's fields are nil pointers, best not visited.
		dst.Set(src)
		for _, i := range deepFields(src.Type()) {
			if f := src.Field(i); !f.IsZero() {
				deepCopy(dst.Field(i), f)
			}
		}
	case reflect.Array:
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			deepCopy(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopy(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		deepCopy(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}

// deepFieldsOf caches deepFields by struct type.
var deepFieldsOf sync.Map // reflect.Type -> []int

// deepFields are the indices of t's fields that hold references, directly
// or in a nested struct: the ones a plain assignment would share.
func deepFields(t reflect.Type) []int {
	if v, ok := deepFieldsOf.Load(t); ok {
		return v.([]int)
	}
	var idx []int
	for i := range t.NumField() {
		if holdsReferences(t.Field(i).Type, map[reflect.Type]bool{}) {
			idx = append(idx, i)
		}
	}
	deepFieldsOf.Store(t, idx)
	return idx
}

func holdsReferences(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
		return true
	case reflect.Array:
		return holdsReferences(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		seen[t] = true
		for i := range t.NumField() {
			if holdsReferences(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
