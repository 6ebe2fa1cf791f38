package domxml

import (
	"fmt"
	"reflect"
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

// defaultEdits writes those attributes into the start tags of the
// devices (devs, parsed from doc) that lack them, in the tree, and gives
// the edits that write them into the text libvirtxml reads.
func defaultEdits(doc string, devs []*node) []textEdit {
	var edits []textEdit
	for _, n := range devs {
		def, known := libvirtDefaults[n.name]
		if !known {
			continue
		}
		if _, set := n.attr(def.name); set || !strings.HasPrefix(doc[n.start:], "<"+n.name) {
			continue
		}
		n.attrs = append(n.attrs, def)
		at := n.start + len("<"+n.name)
		edits = append(edits, textEdit{at: at, end: at, insert: fmt.Sprintf(" %s='%s'", def.name, def.value)})
	}
	return edits
}

// decodedText is doc, whose tree is root, as libvirtxml is to decode it
// into a t: with libvirt's defaults for the devices devs (defaultEdits)
// and without the repeats libvirt ignores (repeatCuts).
func decodedText(doc string, root *node, t reflect.Type, devs []*node) string {
	return applyEdits(doc, append(defaultEdits(doc, devs), repeatCuts(root, t)...))
}
