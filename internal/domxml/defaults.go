package domxml

import (
	"fmt"
	"strings"
)

// libvirtDefaults are the attributes libvirt's parser gives a device that
// lacks them, and that libvirtxml cannot read the device without: a
// <hostdev> is a subsystem one (virDomainHostdevDefParseXML), an
// <interface> of type 'user' (virDomainNetDefParseXML).
var libvirtDefaults = map[string]attr{
	"hostdev":   {"mode", "subsystem"},
	"interface": {"type", "user"},
}

// withLibvirtDefaults writes those attributes into the start tags of the
// devices (devs, in document order, parsed from doc) that lack them, in
// the tree and in the text libvirtxml reads.
func withLibvirtDefaults(doc string, devs []*node) string {
	var b strings.Builder
	last := 0
	for _, n := range devs {
		def, known := libvirtDefaults[n.name]
		if !known {
			continue
		}
		at := n.start + len("<"+n.name)
		if _, set := n.attr(def.name); set || at <= last || !strings.HasPrefix(doc[n.start:], "<"+n.name) {
			continue
		}
		n.attrs = append(n.attrs, def)
		b.WriteString(doc[last:at])
		fmt.Fprintf(&b, " %s='%s'", def.name, def.value)
		last = at
	}
	if last == 0 {
		return doc
	}
	b.WriteString(doc[last:])
	return b.String()
}
