package domxml

import (
	"encoding/xml"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// FormatFlag is virDomainXMLFlags, the flags of virDomainGetXMLDesc.
type FormatFlag uint32

// The dumpxml flags, with libvirt's values.
const (
	// FormatSecure includes secrets: graphics passwords.
	FormatSecure FormatFlag = 1 << 0
	// FormatInactive shows the persistent view: no id, automatically
	// chosen graphics ports shown as port='-1', no pty paths or tty.
	FormatInactive FormatFlag = 1 << 1
	// FormatUpdateCPU would update the guest CPU from the host; libxl
	// does not accept it (CheckXMLFlags refuses it).
	FormatUpdateCPU FormatFlag = 1 << 2
	// FormatMigratable drops what only this host added for backward
	// compatibility: the implicit PS/2 or Xen keyboard.
	FormatMigratable FormatFlag = 1 << 3
)

// CheckXMLFlags is libxlDomainGetXMLDesc's virCheckFlags: only SECURE,
// INACTIVE and MIGRATABLE are accepted.
func CheckXMLFlags(flags uint32) error {
	const ok = uint32(FormatSecure | FormatInactive | FormatMigratable)
	if bad := flags &^ ok; bad != 0 {
		return virerr.UnsupportedFlags(virerr.FromLibxl, bad, "libxlDomainGetXMLDesc")
	}
	return nil
}

// FormatFlags writes d as virDomainDefFormat would with these flags.
func FormatFlags(d *libvirtxml.Domain, flags FormatFlag) (out string, err error) {
	return FormatWithPorts(d, flags, nil)
}

// FormatWithPorts is FormatFlags for a running domain whose network
// interfaces have ports: its live view shows each such interface with its
// actual device, as libvirt does; the inactive and migratable views show
// the interface as configured.
func FormatWithPorts(d *libvirtxml.Domain, flags FormatFlag, ports Ports) (string, error) {
	root, err := formatTree(d, flags, ports)
	if err != nil {
		return "", err
	}
	return writeLibvirt(root), nil
}

// FormatNested writes d inside another document, as
// virDomainDefFormatInternalSetRootName does for a snapshot's <domain>
// and <inactiveDomain>: the root element is called rootName and the
// whole is indented by depth levels (two spaces each), the rest as
// FormatFlags.
func FormatNested(d *libvirtxml.Domain, flags FormatFlag, rootName string, depth int) (string, error) {
	root, err := formatTree(d, flags, nil)
	if err != nil {
		return "", err
	}
	root.name = rootName
	return writeLibvirtAt(root, depth), nil
}

// formatTree is the document FormatWithPorts writes, as a tree.
func formatTree(d *libvirtxml.Domain, flags FormatFlag, ports Ports) (root *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, internalErr("cannot format domain XML: %v", r)
		}
	}()
	c := Copy(d)
	if c == nil {
		return nil, internalErr("cannot format domain XML")
	}
	if c.ID == nil || *c.ID < 0 {
		flags |= FormatInactive
	}
	if flags&FormatInactive != 0 {
		c.ID = nil
	}
	applyFormatRules(c, flags)
	var extra map[int][]attr
	if flags&(FormatInactive|FormatMigratable) == 0 {
		extra = applyActual(c, ports)
	}
	raw, err := xml.Marshal(c) // unindented: whitespace stays data
	if err != nil {
		return nil, internalErr("cannot format domain XML: %v", err)
	}
	root, err = parseTree(string(raw))
	if err != nil {
		return nil, internalErr("cannot format domain XML: %v", err)
	}
	addSourceAttrs(root, extra)
	libvirtOrder(root)
	return root, nil
}

func applyFormatRules(c *libvirtxml.Domain, flags FormatFlag) {
	if c.Devices == nil {
		return
	}
	dev := c.Devices
	for i := range dev.Graphics {
		formatGraphics(&dev.Graphics[i], flags)
	}
	if KindOf(c) == HVM {
		for i := range dev.Consoles {
			if consoleIsSerial(dev.Consoles[i]) && i < len(dev.Serials) {
				dev.Consoles[i] = consoleFromSerial(dev.Serials[i])
			}
		}
	}
	if flags&FormatInactive != 0 {
		for i := range dev.Consoles {
			dev.Consoles[i].TTY = ""
			clearPtyPath(dev.Consoles[i].Source)
		}
		for i := range dev.Serials {
			clearPtyPath(dev.Serials[i].Source)
		}
		// every device's, the consoles' and serials' (libxl's serialN) too
		dropGeneratedAliases(dev)
		for i := range dev.Interfaces {
			ifc := &dev.Interfaces[i]
			dropGeneratedIfname(ifc)
			// A port belongs to a run (virDomainNetDefFormat).
			if ifc.Source != nil && ifc.Source.Network != nil {
				ifc.Source.Network.PortID = ""
			}
		}
	}
	if flags&FormatMigratable != 0 {
		var kept []libvirtxml.DomainInput
		for _, in := range dev.Inputs {
			if in.Type == "keyboard" && (in.Bus == "ps2" || in.Bus == "xen") {
				continue
			}
			kept = append(kept, in)
		}
		dev.Inputs = kept
	}
}

// consoleFromSerial: libvirt prints an HVM guest's serial-type console
// as a copy of the serial port it aliases.
func consoleFromSerial(s libvirtxml.DomainSerial) libvirtxml.DomainConsole {
	var port *uint
	if s.Target != nil {
		port = s.Target.Port
	}
	c := libvirtxml.DomainConsole{
		Source: s.Source, Protocol: s.Protocol, Log: s.Log,
		Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: port},
		Alias:  s.Alias, Address: s.Address,
	}
	if s.Source != nil && s.Source.Pty != nil && s.Source.Pty.Path != "" {
		c.TTY = s.Source.Pty.Path
	}
	return c
}

func clearPtyPath(s *libvirtxml.DomainChardevSource) {
	if s != nil && s.Pty != nil {
		s.Pty.Path = ""
	}
}

// marshalPart encodes any libvirtxml fragment, for comparisons.
func marshalPart(v any) string {
	b, err := xml.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
