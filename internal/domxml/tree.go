package domxml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// node is a minimal, prefix-preserving XML tree. It exists because
// encoding/xml cannot write libvirt's style (single quotes, "<x/>") and
// drops namespace prefixes on re-encoding; the metadata helpers and the
// formatter both work on it.
type node struct {
	name  string // qualified name as written, e.g. "app1:foo"
	attrs []attr
	kids  []*node
	text  string // character data when this is a text node
	isTxt bool
	line  int // where the start tag ended, for error messages
	start int // the offset of the start tag's '<' in the document
	end   int // the offset past its end tag
}

type attr struct {
	name  string // qualified, e.g. "xmlns:app1"
	value string
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// syntaxError carries where a document stopped being well formed.
type syntaxError struct {
	line   int
	offset int64 // byte offset where the parser stopped, -1 if unknown
	msg    string
}

func (e *syntaxError) Error() string { return e.msg }

// parseTree reads one XML document into a tree. Comments, processing
// instructions and directives are dropped, as libvirt's parser drops them
// from what it formats. Errors are *syntaxError.
func parseTree(doc string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, toSyntaxError(err, d)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			if bad := badQName(t); bad != "" {
				// libxml2's namespace error, which libvirt's parser fails on
				return nil, &syntaxError{line, d.InputOffset(), fmt.Sprintf("Failed to parse QName '%s'", bad)}
			}
			n := &node{name: qname(t.Name), line: line, start: int(before)}
			for _, a := range t.Attr {
				name := qname(a.Name)
				if _, dup := n.attr(name); dup {
					return nil, &syntaxError{line, tagEnd(doc, d.InputOffset()), fmt.Sprintf("Attribute %s redefined", name)}
				}
				n.attrs = append(n.attrs, attr{name, a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					line, _ := d.InputPos()
					return nil, &syntaxError{line, before, "Extra content at the end of the document"}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				line, _ := d.InputPos()
				return nil, &syntaxError{line, before, "Extra content at the end of the document"}
			}
			top := stack[len(stack)-1]
			if top.name != qname(t.Name) {
				line, _ := d.InputPos()
				return nil, &syntaxError{line, d.InputOffset(), fmt.Sprintf(
					"Opening and ending tag mismatch: %s line %d and %s", top.name, top.line, qname(t.Name))}
			}
			top.end = int(d.InputOffset())
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					line, _ := d.InputPos()
					msg := "Start tag expected, '<' not found"
					if root != nil {
						msg = "Extra content at the end of the document"
					}
					return nil, &syntaxError{line, d.InputOffset(), msg}
				}
				continue
			}
			p := stack[len(stack)-1]
			p.kids = append(p.kids, &node{isTxt: true, text: string(t)})
		}
	}
	if len(stack) != 0 {
		line, _ := d.InputPos()
		top := stack[len(stack)-1]
		return nil, &syntaxError{line, d.InputOffset(),
			fmt.Sprintf("Premature end of data in tag %s line %d", top.name, top.line)}
	}
	if root == nil {
		return nil, &syntaxError{1, -1, "Document is empty"}
	}
	return root, nil
}

// tagEnd is where libxml2 reports an error in the start tag that ends
// before end: at its closing '>', or at the '/' of "/>".
func tagEnd(doc string, end int64) int64 {
	if end >= 2 && doc[end-2:end] == "/>" {
		return end - 2
	}
	return end - 1
}

func toSyntaxError(err error, d *xml.Decoder) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{se.Line, d.InputOffset(), libxmlMessage(se.Msg)}
	}
	line, _ := d.InputPos()
	return &syntaxError{line, d.InputOffset(), err.Error()}
}

// child returns the first element child with the given name.
func (n *node) child(name string) *node {
	for _, k := range n.kids {
		if !k.isTxt && k.name == name {
			return k
		}
	}
	return nil
}

// elems returns the element children, without text nodes.
func (n *node) elems() []*node {
	var out []*node
	for _, k := range n.kids {
		if !k.isTxt {
			out = append(out, k)
		}
	}
	return out
}

// content is the concatenated character data directly under n.
func (n *node) content() string {
	var b strings.Builder
	for _, k := range n.kids {
		if k.isTxt {
			b.WriteString(k.text)
		}
	}
	return b.String()
}

func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

func (n *node) localName() string {
	if i := strings.IndexByte(n.name, ':'); i >= 0 {
		return n.name[i+1:]
	}
	return n.name
}

func (n *node) prefix() string {
	if i := strings.IndexByte(n.name, ':'); i >= 0 {
		return n.name[:i]
	}
	return ""
}

var closedBy = regexp.MustCompile(`^element <(\S+)> closed by </(\S+)>$`)

// libxmlMessage words Go's common syntax errors the way libxml2 does.
func libxmlMessage(msg string) string {
	if m := closedBy.FindStringSubmatch(msg); m != nil {
		return "Opening and ending tag mismatch: " + m[1] + " and " + m[2]
	}
	if msg == "unexpected EOF" {
		return "Premature end of data"
	}
	return msg
}

// badQName is the first name of t with an empty prefix or local part
// ("q:", ":q"), which encoding/xml reads as a name and libxml2 refuses;
// "" if none.
func badQName(t xml.StartElement) string {
	bad := func(n xml.Name) bool {
		return n.Space == "" && (strings.HasPrefix(n.Local, ":") || strings.HasSuffix(n.Local, ":"))
	}
	if bad(t.Name) {
		return t.Name.Local
	}
	for _, a := range t.Attr {
		if bad(a.Name) {
			return a.Name.Local
		}
	}
	return ""
}
