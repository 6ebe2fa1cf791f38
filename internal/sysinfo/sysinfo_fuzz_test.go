package sysinfo

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: whatever dmidecode prints (firmware strings are the vendor's
// bytes) parses without panicking, and what parses formats as a document
// an XML reader takes whole, each entry's text being the value printed,
// less the control characters XML cannot carry.
func FuzzParse(f *testing.F) {
	f.Add(qemu)
	f.Add("")
	f.Add("OEM Strings\n\tString 1: a.b\n\tString x: y\n")
	f.Add("Memory Device\n\tSize: No Module\n\tLocator: A1\nMemory Device\n\tSize: 1 GB\n")
	f.Add("System Information\n\tManufacturer: A\x01B<&>'\"\x1fC\rD\r\n")
	f.Add("BIOS Information\n\tVendor: \xff\xfe\n")
	f.Fuzz(func(t *testing.T, out string) {
		d, err := Parse(out, func(idx int) (string, error) {
			if idx%7 == 3 {
				return "", errors.New("dmidecode failed")
			}
			return "oem " + strconv.Itoa(idx), nil
		})
		if err != nil {
			return
		}
		doc := d.Format()
		if !utf8.ValidString(out) || strings.ContainsAny(out, "\uFFFE\uFFFF") {
			return // written as libvirt writes it, which no XML reader takes either
		}
		var want []string
		for _, s := range d.Sections {
			for _, e := range s.Entries {
				want = append(want, xmlText(e.Value))
			}
		}
		got, err := entryTexts(doc)
		if err != nil {
			t.Fatalf("formatted sysinfo does not read back: %v\n%s", err, doc)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("entries read back as %q, want %q\n%s", got, want, doc)
		}
	})
}

// xmlText is what an XML reader gives back of a value escaped as
// virBufferEscapeString escapes it: control characters other than tab,
// newline and carriage return gone, and a carriage return read as a
// newline (XML's end-of-line handling).
func xmlText(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, v)
	return strings.ReplaceAll(v, "\r", "\n")
}

// entryTexts reads a sysinfo document strictly and returns the text of
// each <entry> in order.
func entryTexts(doc string) ([]string, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var texts []string
	var cur *strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "entry" {
				cur = &strings.Builder{}
			}
		case xml.CharData:
			if cur != nil {
				cur.Write(tok)
			}
		case xml.EndElement:
			if tok.Name.Local == "entry" && cur != nil {
				texts = append(texts, cur.String())
				cur = nil
			}
		}
	}
}
