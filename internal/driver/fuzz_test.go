package driver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetadataXMLRoundTrip(t *testing.T) {
	inner, err := metadataSet("", "urn:a", "a", `<?xml version="1.0"?><x k="v&amp;"><y>t</y><!--c--><z/></x>`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a:x xmlns:a="urn:a" k="v&amp;"><a:y>t</a:y><!--c--><a:z/></a:x>`; inner != want {
		t.Fatalf("inject: %s", inner)
	}
	inner, _ = metadataSet(inner, "urn:b", "b", "<q/>")
	inner, _ = metadataSet(inner, "urn:a", "a2", "<w/>")
	if inner != `<b:q xmlns:b="urn:b"/><a2:w xmlns:a2="urn:a"/>` {
		t.Fatalf("replace: %s", inner)
	}
	got, err := metadataFind(inner, "urn:a")
	if err != nil || got != "<w/>" {
		t.Fatalf("find %q %v", got, err)
	}
	if _, err := metadataSet("", "urn:a", "a", "<x/><y/>"); err == nil {
		t.Fatal("two roots accepted")
	}
}

func FuzzMetadataXML(f *testing.F) {
	f.Add(`<a:x xmlns:a="urn:a"><a:y/></a:x>`, "urn:a", "k", `<n m="1">t</n>`)
	f.Add(``, "urn:b", "b", `<x xmlns="urn:z"><y/></x>`)
	f.Add(`<x/>text<!--c-->`, "", "p", `<?pi x?><r/>`)
	f.Fuzz(func(t *testing.T, inner, uri, key, elem string) {
		out, err := metadataSet(inner, uri, key, elem)
		if err != nil || elem == "" || !ncName.MatchString(key) || uri == "" {
			return
		}
		// What was set can be read back and re-set to the same text.
		got, err := metadataFind(out, uri)
		if err != nil {
			t.Fatalf("find after set: %v\n%s", err, out)
		}
		if got == "" {
			t.Fatalf("set element not found in %q", out)
		}
		if _, err := metadataSet(out, uri, key, got); err != nil {
			t.Fatalf("re-set: %v", err)
		}
	})
}

func FuzzStatusFile(f *testing.F) {
	f.Add(`<domstatus state='1' reason='1' domid='3'><domain type='xen'><name>a</name></domain></domstatus>`)
	f.Add(`<domstatus><domain/></domstatus>`)
	f.Add(`<domstatus state='x'>`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(dir, "s.xml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		st, def, err := readStatus(p)
		if err == nil && (st == nil || def == nil || def.ID != nil) {
			t.Fatalf("inconsistent result for %q", content)
		}
		if err == nil && strings.TrimSpace(st.Inner) == "" && def.Name != "" {
			t.Fatal("definition from nothing")
		}
	})
}
