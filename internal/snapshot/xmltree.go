package snapshot

import (
	"encoding/xml"
	"io"
	"strings"

	"virtxend/internal/virstring"
)

// elem is one element of a parsed document, enough to answer the XPath
// questions libvirt's parser asks (first child by name, string value,
// attribute presence) and to hand a subtree on verbatim: raw is the
// element's text in the original document.
type elem struct {
	name  string // as written, with any prefix
	attrs []xml.Attr
	kids  []*elem
	text  []string // character data directly inside, in order
	raw   string
	inner string // raw without the element's own tags
	// mixed keeps text and elements in document order, for writing
	// passed-through content back.
	mixed []any // string or *elem
}

// parseElems reads a well-formed document (the caller has checked it)
// into a tree.
func parseElems(doc string) (*elem, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	var stack []*elem
	var starts, inners []int64
	var root *elem
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &elem{name: qname(t.Name), attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, e)
				p.mixed = append(p.mixed, e)
			} else if root == nil {
				root = e
			}
			stack = append(stack, e)
			starts = append(starts, before)
			inners = append(inners, d.InputOffset())
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			top := len(stack) - 1
			e := stack[top]
			e.raw = doc[starts[top]:d.InputOffset()]
			e.inner = doc[inners[top]:before]
			stack, starts, inners = stack[:top], starts[:top], inners[:top]
		case xml.CharData:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.text = append(p.text, string(t))
				p.mixed = append(p.mixed, string(t))
			}
		}
	}
	if root == nil {
		return nil, io.ErrUnexpectedEOF
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// child is virXPathNode("./name"): the first child element so named.
func (e *elem) child(name string) *elem {
	for _, k := range e.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// children is "./name" as a node set; "*" takes every child element.
func (e *elem) children(name string) []*elem {
	var out []*elem
	for _, k := range e.kids {
		if name == "*" || k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// attr is virXMLPropString: the value and whether the attribute is there
// at all (an empty value is not an absent one).
func (e *elem) attr(name string) (string, bool) {
	for _, a := range e.attrs {
		if qname(a.Name) == name {
			return a.Value, true
		}
	}
	return "", false
}

// str is XPath's string(): all the text under e, in document order.
func (e *elem) str() string {
	var b strings.Builder
	e.collect(&b)
	return b.String()
}

func (e *elem) collect(b *strings.Builder) {
	for _, m := range e.mixed {
		switch v := m.(type) {
		case string:
			b.WriteString(v)
		case *elem:
			v.collect(b)
		}
	}
}

// childStr is virXPathString("string(./a/b/...)"): the string value of
// the first element along the path, nil (false) when there is none or it
// is empty, as virXPathString answers NULL for an empty string.
func (e *elem) childStr(path ...string) (string, bool) {
	n := e.first(path...)
	if n == nil {
		return "", false
	}
	s := n.str()
	return s, s != ""
}

// first follows a path of names the way XPath does for "./a/b": the first
// b under any a, in document order.
func (e *elem) first(path ...string) *elem {
	if len(path) == 0 {
		return e
	}
	for _, k := range e.children(path[0]) {
		if n := k.first(path[1:]...); n != nil {
			return n
		}
	}
	return nil
}

// writeElem writes e the way libvirt's virBuffer formatter writes its
// documents: two-space indentation, single-quoted attributes, "<x/>" for
// an empty element, text inline. An element mixing text and elements is
// written as it came, for libvirt would not have made it.
func writeElem(b *strings.Builder, e *elem, depth int) {
	ind := strings.Repeat("  ", depth)
	b.WriteString(ind + "<" + e.name)
	for _, a := range e.attrs {
		b.WriteString(" " + qname(a.Name) + "='" + virstring.EscapeString(a.Value) + "'")
	}
	text := strings.Join(e.text, "")
	switch {
	case len(e.kids) > 0 && strings.TrimSpace(text) != "":
		b.WriteString(">" + e.inner + "</" + e.name + ">\n")
	case len(e.kids) > 0:
		b.WriteString(">\n")
		for _, k := range e.kids {
			writeElem(b, k, depth+1)
		}
		b.WriteString(ind + "</" + e.name + ">\n")
	case text == "":
		b.WriteString("/>\n")
	default:
		b.WriteString(">" + virstring.EscapeString(text) + "</" + e.name + ">\n")
	}
}
