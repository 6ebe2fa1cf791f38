package domxml

import (
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// CheckWellFormed is virXMLParseHelper's parse of a string for a caller in
// error domain dom, for documents other than a domain's (a CPU definition,
// say): a document that is not well formed is VIR_ERR_XML_DETAIL "at line
// N: <libxml2's message>" with libxml2's context line and pointer, as
// parseDocument reports it for a domain. It returns the root element's
// name, which the caller checks in its own words.
func CheckWellFormed(doc, url string, dom virerr.Domain) (string, error) {
	root, err := parseTree(doc)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			ctx, ptr := errorContext(doc, se)
			return "", virerr.New(dom, libvirt.ErrXMLDetail, "at line %d: %s\n%s\n%s", se.line, se.msg, ctx, ptr)
		}
		return "", virerr.New(dom, libvirt.ErrXMLError, "failed to parse xml document '%s'", url)
	}
	return root.name, nil
}
