package domxml

import (
	"strings"

	"virtxend/internal/virstring"
)

// writeLibvirt writes a tree the way libvirt's virBuffer formatter does:
// two-space indentation, single-quoted attributes, "<x/>" for empty
// elements, text inline. The subtree under <metadata> is written the way
// libxml2's xmlNodeDump does (double quotes), as libvirt hands it to libxml2.
func writeLibvirt(root *node) string {
	return writeLibvirtAt(root, 0)
}

// writeLibvirtAt is writeLibvirt for a document embedded in another one
// (a snapshot's <domain>): every line that virBuffer would indent is
// indented by base more levels. Text that spans lines is not, as
// virBuffer indents only where one of its writes starts a line.
func writeLibvirtAt(root *node, base int) string {
	var b strings.Builder
	writeNodeAt(&b, root, base, base, false)
	return b.String()
}

func writeNode(b *strings.Builder, n *node, depth int, libxml bool) {
	writeNodeAt(b, n, depth, 0, libxml)
}

// writeNodeAt writes n at depth; base is the depth of the document's
// root, against which the rules for particular elements are checked.
func writeNodeAt(b *strings.Builder, n *node, depth, base int, libxml bool) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(n.name)
	for _, a := range n.attrs {
		b.WriteByte(' ')
		b.WriteString(a.name)
		if libxml {
			b.WriteString(`="`)
			b.WriteString(escapeLibxmlAttr(a.value))
			b.WriteByte('"')
		} else {
			b.WriteString("='")
			b.WriteString(virstring.EscapeString(a.value))
			b.WriteByte('\'')
		}
	}
	elems := n.elems()
	text := n.content()
	switch {
	case len(elems) == 0 && text == "" && !libxml && alwaysOpen(n.name, depth-base):
		b.WriteString(">\n" + indent + "</" + n.name + ">\n")
	case len(elems) == 0 && text == "":
		b.WriteString("/>\n")
	case len(elems) == 0:
		b.WriteByte('>')
		b.WriteString(escapeText(text, libxml))
		b.WriteString("</" + n.name + ">\n")
	case libxml && strings.TrimSpace(text) != "":
		// libxml2 does not indent mixed content.
		b.WriteByte('>')
		writeMixed(b, n)
		b.WriteString("</" + n.name + ">\n")
	default:
		b.WriteString(">\n")
		childLibxml := libxml || (depth-base == 1 && n.name == "metadata")
		for _, k := range elems {
			writeNodeAt(b, k, depth+1, base, childLibxml)
		}
		b.WriteString(indent + "</" + n.name + ">\n")
	}
}

// alwaysOpen names the elements libvirt writes as an opening and a closing
// tag even when empty, for they are written by hand and not with
// virXMLFormatElement: <devices> (a Domain-0 has none) and
// <features><hyperv mode='passthrough'>.
func alwaysOpen(name string, depth int) bool {
	return (name == "devices" && depth == 1) || (name == "hyperv" && depth == 2)
}

// writeMixed writes children without any added whitespace.
func writeMixed(b *strings.Builder, n *node) {
	for _, k := range n.kids {
		if k.isTxt {
			b.WriteString(escapeText(k.text, true))
			continue
		}
		var sub strings.Builder
		writeNode(&sub, k, 0, true)
		b.WriteString(strings.TrimSuffix(sub.String(), "\n"))
	}
}

func escapeText(s string, libxml bool) string {
	if !libxml {
		return virstring.EscapeString(s)
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")
	return r.Replace(s)
}

func escapeLibxmlAttr(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
		"\n", "&#10;", "\r", "&#13;", "\t", "&#9;")
	return r.Replace(s)
}

// LibvirtStyle rewrites any XML document the way libvirt's formatter
// writes its own documents (two-space indent, single-quoted attributes,
// "<x/>" for empty elements), for other XML this daemon emits, such as
// capabilities.
func LibvirtStyle(doc string) (string, error) {
	root, err := parseTree(doc)
	if err != nil {
		return "", internalErr("cannot format XML: %v", err)
	}
	return writeLibvirt(root), nil
}
