// Package domxml parses, validates, fills defaults into and formats libvirt
// domain XML for Xen guests, as libvirt's libxl driver does.
//
// STUB: the signatures are the contract; validation and defaults are filled
// in by the domain XML work.
package domxml

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// Parse reads a domain definition, validates it for Xen and fills libvirt's
// defaults (uuid, console, controllers, ...). Errors are libvirt's.
func Parse(xml string) (*libvirtxml.Domain, error) {
	d := &libvirtxml.Domain{}
	if err := d.Unmarshal(xml); err != nil {
		return nil, virerr.New(virerr.FromDomain, libvirt.ErrXMLDetail, "%s", err.Error())
	}
	return d, nil
}

// Format writes a domain definition as libvirt's dumpxml shows it.
func Format(d *libvirtxml.Domain) (string, error) {
	return d.Marshal()
}
