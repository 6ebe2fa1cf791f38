// Package domxml parses, validates, fills defaults into and formats libvirt
// domain XML for Xen guests, as libvirt's libxl driver (11.x) does, so that
// what a client defines and what dumpxml shows match libvirt's virtxend.
//
// The pipeline mirrors virDomainDefParse with the libxl parser config:
// well-formedness and generic parse checks, then the libxl and generic
// post-parse defaults, then the libxl and generic validation.
package domxml

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"io"

	"libvirt.org/go/libvirtxml"
)

// Guest is one guest type the host offers, as in the capabilities
// <guest> list: os type ("hvm", "xen", "xenpvh") and architecture.
type Guest struct {
	OSType string
	Arch   string
}

// DefaultGuests is what a 64-bit x86 Xen host with hardware
// virtualisation offers: HVM, PV and PVH guests.
func DefaultGuests() []Guest {
	return []Guest{{"hvm", "x86_64"}, {"xen", "x86_64"}, {"xenpvh", "x86_64"}}
}

// Options tune parsing.
type Options struct {
	// Guests are the guest types the host supports; nil means
	// DefaultGuests. A definition no guest type matches is refused.
	Guests []Guest
	// HostArch is used when <os><type> has no arch; "" means x86_64.
	HostArch string
	// Live parses a status (running) definition: the id attribute and
	// graphics ports are kept. Without it, the parse is libvirt's
	// VIR_DOMAIN_DEF_PARSE_INACTIVE, used by define and create.
	Live bool
	// Rand is the randomness for generated UUIDs and MAC addresses;
	// nil means crypto/rand.
	Rand io.Reader
	// SkipValidate leaves out the validation after the defaults
	// (VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE), as libvirt parses the
	// domain kept in a snapshot: it was valid when it was taken.
	SkipValidate bool
}

func (o *Options) fill() {
	if o.Guests == nil {
		o.Guests = DefaultGuests()
	}
	if o.HostArch == "" {
		o.HostArch = "x86_64"
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
}

// Parse reads a domain definition, validates it for Xen and fills libvirt's
// defaults (uuid, console, controllers, ...). Errors are libvirt's.
func Parse(xml string) (*libvirtxml.Domain, error) {
	return ParseWith(xml, Options{})
}

// ParseWith is Parse with explicit options.
func ParseWith(xml string, o Options) (*libvirtxml.Domain, error) {
	o.fill()
	root, err := parseDocument(xml)
	if err != nil {
		return nil, err
	}
	if err := precheck(root); err != nil {
		return nil, err
	}
	var devs []*node
	if d := root.child("devices"); d != nil {
		devs = d.elems()
	}
	d, err := unmarshal(decodedText(xml, root, domainType, devs))
	if err != nil {
		return nil, err
	}
	if err := normalize(d, root, &o); err != nil {
		return nil, err
	}
	if err := postParse(d, &o); err != nil {
		return nil, err
	}
	if o.SkipValidate {
		return d, nil
	}
	if err := validate(d, &o); err != nil {
		return nil, err
	}
	return d, nil
}

// Format writes a domain definition as libvirt's dumpxml shows it for a
// live domain (no flags); an inactive definition (no id) formats as with
// FormatInactive.
func Format(d *libvirtxml.Domain) (string, error) {
	return FormatFlags(d, 0)
}

// roundTrip writes d with libvirtxml's own encoding and reads it back, as
// a saved config is on the next start: Parse refuses what fails it. It
// never panics.
func roundTrip(d *libvirtxml.Domain) (c *libvirtxml.Domain, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%v", r)
		}
	}()
	b, err := xml.Marshal(d)
	if err != nil {
		return nil, err
	}
	c = &libvirtxml.Domain{}
	if err := xml.Unmarshal(b, c); err != nil {
		return nil, err
	}
	return c, nil
}
