package snapshot

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The files this package ports report from different error domains:
// snapshot_conf.c and virdomainsnapshotobjlist.c as VIR_FROM_DOMAIN_SNAPSHOT,
// moment_conf.c, virdomainmomentobjlist.c and domain_conf.c's source
// parser as VIR_FROM_DOMAIN, virxml.c's attribute helpers as
// VIR_FROM_XML, virstring.c and virutil.c as VIR_FROM_NONE.

func snapErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromDomainSnapshot, code, format, args...)
}

func domainErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromDomain, code, format, args...)
}

// propMissing and propInvalid are virXMLPropEnum's errors.
func propMissing(attr, el string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
		"Missing required attribute '%s' in element '%s'", attr, el)
}

func propInvalid(attr, el, val string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
		"Invalid value for attribute '%s' in element '%s': '%s'.", attr, el, val)
}
