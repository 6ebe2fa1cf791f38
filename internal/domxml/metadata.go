package domxml

import (
	"strings"
	"unicode/utf8"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// The virDomainMetadataType values.
const (
	MetadataDescription = 0
	MetadataTitle       = 1
	MetadataElement     = 2
)

// SetMetadata is virDomainDefSetMetadata: it stores metadata, a nullable
// string as in the C API, as the title, the description or, for
// MetadataElement, one XML element put into namespace uri under prefix
// key, replacing any element of that namespace. nil (or "" for title and
// description) removes. The public API's argument checks (NULL key or
// uri, newlines in a title) are the caller's.
func SetMetadata(d *libvirtxml.Domain, typ int, metadata *string, key, uri string) error {
	val := ""
	if metadata != nil {
		val = *metadata
	}
	switch typ {
	case MetadataDescription:
		d.Description = val
	case MetadataTitle:
		d.Title = val
	case MetadataElement:
		return setElement(d, metadata, key, uri)
	default:
		return invalidArg("unknown metadata type '%d'", typ)
	}
	return nil
}

// GetMetadata is virDomainDefGetMetadata: the title, the description, or
// the element stored under uri without its namespace prefix, formatted
// (indented) as libvirt returns it.
func GetMetadata(d *libvirtxml.Domain, typ int, uri string) (string, error) {
	var out string
	switch typ {
	case MetadataDescription:
		out = d.Description
	case MetadataTitle:
		out = d.Title
	case MetadataElement:
		out = getElement(d, uri)
	default:
		return "", invalidArg("unknown metadata type '%d'", typ)
	}
	if out == "" {
		return "", virerr.New(virerr.FromDomain, libvirt.ErrNoDomainMetadata,
			"%s", "Requested metadata element is not present")
	}
	return out, nil
}

func invalidArg(format string, args ...any) error {
	return virerr.New(virerr.FromDomain, libvirt.ErrInvalidArg, format, args...)
}

// xmlInternalErr is an internal error raised in libvirt's virxml.c,
// hence from VIR_FROM_XML.
func xmlInternalErr(msg string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrInternalError, "%s", msg)
}

func setElement(d *libvirtxml.Domain, metadata *string, key, uri string) error {
	var fresh *node
	if metadata != nil {
		root, err := parseTree(*metadata)
		if err != nil {
			se, _ := err.(*syntaxError)
			ctx, ptr := errorContext(*metadata, se)
			return virerr.New(virerr.FromDomain, libvirt.ErrXMLDetail,
				"at line %d: %s\n%s\n%s", se.line, se.msg, ctx, ptr)
		}
		if err := injectNamespace(root, key, uri); err != nil {
			return err
		}
		fresh = root
	}
	// libvirt would store what XML cannot carry and then fail to read
	// its own file back; refuse it instead.
	if !validURIText(uri) {
		return xmlErr("(metadata_xml): namespace URI is not valid text")
	}
	kids := metadataKids(d)
	var kept []*node
	for _, k := range kids {
		if nsURI(k, nil) != uri {
			kept = append(kept, k)
		}
	}
	if fresh != nil {
		kept = append(kept, fresh)
	}
	storeMetadata(d, kept)
	return nil
}

// validURIText rejects namespace URIs XML cannot carry in an attribute
// unchanged: empty, invalid UTF-8, control characters, whitespace (which
// no URI has) and the non-characters U+FFFE and U+FFFF.
func validURIText(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}

// metadataKids parses the stored <metadata> children.
func metadataKids(d *libvirtxml.Domain) []*node {
	if d.Metadata == nil || strings.TrimSpace(d.Metadata.XML) == "" {
		return nil
	}
	root, err := parseTree("<metadata>" + d.Metadata.XML + "</metadata>")
	if err != nil {
		return nil
	}
	return root.elems()
}

func storeMetadata(d *libvirtxml.Domain, kids []*node) {
	if len(kids) == 0 {
		d.Metadata = nil
		return
	}
	var b strings.Builder
	for _, k := range kids {
		declsFirst(k)
		writeCompact(&b, k)
	}
	d.Metadata = &libvirtxml.DomainMetadata{XML: b.String()}
}

// sanitizeMetadata is virXMLNodeSanitizeNamespaces: elements without a
// namespace are dropped, and of several sharing one only the first stays.
func sanitizeMetadata(d *libvirtxml.Domain) {
	if d.Metadata == nil {
		return
	}
	seen := map[string]bool{}
	var kept []*node
	for _, k := range metadataKids(d) {
		u := nsURI(k, nil)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		kept = append(kept, k)
	}
	storeMetadata(d, kept)
}

func getElement(d *libvirtxml.Domain, uri string) string {
	for _, k := range metadataKids(d) {
		if nsURI(k, nil) != uri {
			continue
		}
		stripNamespace(k, uri, nil)
		var b strings.Builder
		writeNode(&b, k, 0, true)
		return strings.TrimSuffix(b.String(), "\n")
	}
	return ""
}

// nsURI resolves an element's namespace from xmlns declarations on it
// and the given ancestors' declarations. A name whose part after the
// prefix starts as no NCName may ("q:2x") is in none: libxml2 fails to
// read it as a QName and takes it whole.
func nsURI(n *node, inherited map[string]string) string {
	p := n.prefix()
	if p != "" && !ncNameStart(n.localName()) {
		return ""
	}
	want := "xmlns"
	if p != "" {
		want = "xmlns:" + p
	}
	if v, ok := n.attr(want); ok {
		return v
	}
	return inherited[want]
}

func declsOf(n *node, inherited map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range inherited {
		out[k] = v
	}
	for _, a := range n.attrs {
		if a.name == "xmlns" || strings.HasPrefix(a.name, "xmlns:") {
			out[a.name] = a.value
		}
	}
	return out
}

// injectNamespace is virXMLInjectNamespace: declare key→uri on the root
// (after its own declarations, as xmlNewNs appends) and put every element
// that has no namespace into it.
func injectNamespace(root *node, key, uri string) error {
	if !isNCName(key) {
		return xmlInternalErr("failed to validate prefix for a new XML namespace")
	}
	if _, dup := root.attr("xmlns:" + key); dup {
		return xmlInternalErr("failed to create a new XML namespace")
	}
	root.attrs = append(root.attrs, attr{"xmlns:" + key, uri})
	declsFirst(root)
	var refused error
	var visit func(n *node, decls map[string]string)
	visit = func(n *node, decls map[string]string) {
		if n.isTxt || refused != nil {
			return
		}
		decls = declsOf(n, decls)
		if nsURI(n, decls) == "" {
			if p := n.prefix(); p != "" {
				refused = noNamespaceName(p, n.localName())
				return
			}
			n.name = key + ":" + n.name
		}
		for _, k := range n.kids {
			visit(k, decls)
		}
	}
	visit(root, nil)
	return refused
}

// noNamespaceName refuses an element in no namespace whose name has a
// prefix (undeclared, or before a part that is no NCName), in libxml2's
// words for it. libvirt takes it whole and puts the new prefix before it
// ("k:q:x"), a name encoding/xml cannot read back: refused, as an invalid
// namespace URI is.
func noNamespaceName(prefix, local string) error {
	if !ncNameStart(local) {
		return xmlErr("(metadata_xml): Failed to parse QName '%s:'", prefix)
	}
	return xmlErr("(metadata_xml): Namespace prefix %s on %s is not defined", prefix, local)
}

// declsFirst moves namespace declarations before the other attributes in
// a subtree: libxml2 keeps them apart and writes them first.
func declsFirst(n *node) {
	if n.isTxt {
		return
	}
	var decls, rest []attr
	for _, a := range n.attrs {
		if a.name == "xmlns" || strings.HasPrefix(a.name, "xmlns:") {
			decls = append(decls, a)
		} else {
			rest = append(rest, a)
		}
	}
	n.attrs = append(decls, rest...)
	for _, k := range n.kids {
		declsFirst(k)
	}
}

// stripNamespace is what virXMLExtractNamespaceXML does to its copy:
// elements in uri lose their prefix and the declaration goes.
func stripNamespace(n *node, uri string, decls map[string]string) {
	if n.isTxt {
		return
	}
	decls = declsOf(n, decls)
	if n.prefix() != "" && nsURI(n, decls) == uri {
		n.name = n.localName()
	}
	var kept []attr
	for _, a := range n.attrs {
		if strings.HasPrefix(a.name, "xmlns:") && a.value == uri {
			continue
		}
		kept = append(kept, a)
	}
	n.attrs = kept
	for _, k := range n.kids {
		stripNamespace(k, uri, decls)
	}
}

// writeCompact writes a subtree without added whitespace (storage form).
func writeCompact(b *strings.Builder, n *node) {
	if n.isTxt {
		b.WriteString(escapeText(n.text, true))
		return
	}
	b.WriteString("<" + n.name)
	for _, a := range n.attrs {
		b.WriteString(" " + a.name + `="` + escapeLibxmlAttr(a.value) + `"`)
	}
	if len(n.kids) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	for _, k := range n.kids {
		writeCompact(b, k)
	}
	b.WriteString("</" + n.name + ">")
}

// ncNameStart reports whether s starts as an NCName may. encoding/xml has
// read it as the rest of a name, so its first character is a NameChar, and
// those of them that may not start a name are these (XML 1.0, 2.3).
func ncNameStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	switch {
	case s == "", r == '-', r == '.', '0' <= r && r <= '9', r == 0xB7,
		0x300 <= r && r <= 0x36F, 0x203F <= r && r <= 0x2040:
		return false
	}
	return true
}

// isNCName approximates xmlValidateNCName for ASCII prefixes.
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}
