package domxml

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/fixtures"
)

// copyInputs are every domain XML of the golden tests and of libvirt's
// libxlxml2domconfig and xlconfig test data that parses.
func copyInputs(t testing.TB) map[string]*libvirtxml.Domain {
	dir := fixtures.Dir(t)
	var files []string
	for _, glob := range []string{
		filepath.Join("testdata", "in", "*.xml"),
		filepath.Join(dir, "libxlxml2domconfigdata", "*.xml"),
		filepath.Join(dir, "xlconfigdata", "*.xml"),
	} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	defs := map[string]*libvirtxml.Domain{}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := ParseWith(string(in), Options{Rand: fixedRand()}); err == nil {
			defs[f] = d
		}
	}
	if len(defs) < 50 {
		t.Fatalf("only %d inputs parse", len(defs))
	}
	return defs
}

// TestCopyIsDeepAndEqual: a copy equals its original, marshals as it
// does, and shares no memory with it: clearing every field the copy
// reaches through pointers and slices leaves the original as it was.
func TestCopyIsDeepAndEqual(t *testing.T) {
	for f, d := range copyInputs(t) {
		want, err := xml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		c := Copy(d)
		if !reflect.DeepEqual(c, d) {
			t.Errorf("%s: copy differs", f)
		}
		if got, _ := xml.Marshal(c); string(got) != string(want) {
			t.Errorf("%s: copy marshals differently", f)
		}
		scribble(reflect.ValueOf(c).Elem())
		if after, _ := xml.Marshal(d); string(after) != string(want) {
			t.Errorf("%s: changing the copy changed the original", f)
		}
	}
}

// scribble changes every string and number v holds, in place.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			scribble(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.String:
		v.SetString("scribbled")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	}
}

func BenchmarkCopy(b *testing.B) {
	d, err := ParseWith(mustRead(b, filepath.Join(fixtures.Dir(b), "libxlxml2domconfigdata", "basic-hvm.xml")), Options{Rand: fixedRand()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Copy(d)
	}
}

func mustRead(b testing.TB, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}
