package driver

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A domain's <metadata> holds one element per namespace. These helpers do
// on its inner XML what libvirt does with libxml2: find the element of a
// namespace, remove it, and insert a client's element under a prefix.

// ncName approximates xmlValidateNCName for prefixes.
var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

type topElement struct {
	start, end int64 // byte range in the inner XML
	ns         string
}

// topElements lists the top-level elements of inner with their namespaces.
func topElements(inner string) ([]topElement, error) {
	const open = "<metadata>"
	dec := xml.NewDecoder(strings.NewReader(open + inner + "</metadata>"))
	var out []topElement
	depth := 0
	var cur topElement
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				cur = topElement{start: before - int64(len(open)), ns: t.Name.Space}
			}
		case xml.EndElement:
			if depth == 2 {
				cur.end = dec.InputOffset() - int64(len(open))
				out = append(out, cur)
			}
			depth--
		}
	}
}

// metadataFind returns the element in namespace uri, stripped of its
// prefix and namespace declaration as virXMLExtractNamespaceXML does, or
// "" when there is none.
func metadataFind(inner, uri string) (string, error) {
	els, err := topElements(inner)
	if err != nil {
		return "", err
	}
	for _, e := range els {
		if e.ns == uri {
			return rewritePrefix(inner[e.start:e.end], uri, "")
		}
	}
	return "", nil
}

// metadataSet removes every element in namespace uri from inner and, when
// elem is not empty, appends elem with its elements put in uri under
// prefix key (virDomainDefSetMetadata).
func metadataSet(inner, uri, key, elem string) (string, error) {
	if !validURIText(uri) {
		return "", errors.New("namespace URI is not valid text")
	}
	els, err := topElements(inner)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	last := int64(0)
	for _, e := range els {
		if e.ns != uri {
			continue
		}
		b.WriteString(inner[last:e.start])
		last = e.end
	}
	b.WriteString(inner[last:])
	out := b.String()
	if strings.TrimSpace(out) == "" {
		out = ""
	}
	if elem == "" {
		return out, nil
	}
	injected, err := rewritePrefix(elem, uri, key)
	if err != nil {
		return "", err
	}
	return out + injected, nil
}

// parseOneElement checks that s is a single well-formed element.
func parseOneElement(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the element")
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("expected one element, found %d", roots)
	}
	return nil
}

// rewritePrefix re-serialises one element. With key != "" every element
// is put in namespace uri under prefix key, declared on the root (inject).
// With key == "" elements in uri lose their prefix and the declaration of
// uri is dropped (extract).
func rewritePrefix(elem, uri, key string) (string, error) {
	if err := parseOneElement(elem); err != nil {
		return "", err
	}
	dec := xml.NewDecoder(strings.NewReader(elem))
	var b strings.Builder
	prefixOf := map[string]string{} // prefixes bound to uri (extract)
	pending := ""                   // start tag awaiting '>' or '/>'
	depth := 0
	flush := func() {
		if pending != "" {
			b.WriteString(pending + ">")
			pending = ""
		}
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flush()
			pending = startTag(t, uri, key, depth == 0, prefixOf)
			depth++
		case xml.EndElement:
			depth--
			if pending != "" {
				b.WriteString(pending + "/>")
				pending = ""
				continue
			}
			b.WriteString("</" + elemName(t.Name, uri, key, prefixOf) + ">")
		case xml.CharData:
			flush()
			b.WriteString(escapeText(string(t)))
		case xml.Comment:
			flush()
			b.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			flush()
			if depth > 0 {
				b.WriteString("<?" + t.Target + " " + string(t.Inst) + "?>")
			}
		}
	}
	return b.String(), nil
}

func elemName(n xml.Name, uri, key string, prefixOf map[string]string) string {
	if key != "" {
		return key + ":" + n.Local
	}
	if n.Space != "" && prefixOf[n.Space] == uri {
		return n.Local
	}
	if n.Space == "" && prefixOf[""] == uri {
		return n.Local
	}
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func startTag(t xml.StartElement, uri, key string, root bool, prefixOf map[string]string) string {
	var b strings.Builder
	// Record declarations first: they apply to the element itself.
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" {
			prefixOf[a.Name.Local] = a.Value
		} else if a.Name.Space == "" && a.Name.Local == "xmlns" {
			prefixOf[""] = a.Value
		}
	}
	b.WriteString("<" + elemName(t.Name, uri, key, prefixOf))
	if key != "" && root {
		b.WriteString(` xmlns:` + key + `="`)
		xml.EscapeText(&b, []byte(uri))
		b.WriteString(`"`)
	}
	for _, a := range t.Attr {
		isDecl := a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
		if isDecl && a.Value == uri {
			continue // re-declared by inject, dropped by extract
		}
		if isDecl && key != "" && a.Name.Local == key {
			continue
		}
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		b.WriteString(" " + name + `="`)
		xml.EscapeText(&b, []byte(a.Value))
		b.WriteString(`"`)
	}
	return b.String()
}

// escapeText escapes character data as libxml2 writes it (newlines kept).
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// validURIText rejects what XML cannot carry in an attribute unchanged:
// invalid UTF-8, control characters and whitespace (no URI has those).
func validURIText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}
