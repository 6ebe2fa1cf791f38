package libxlconf

import (
	"strings"

	"libvirt.org/go/libvirtxml"
)

// networkDiskPath is libxlMakeNetworkDiskSrcStr: a network disk as the
// target string QEMU's qdisk backend reads. Only RBD is supported, as in
// libvirt; with hosts, an optional snapshot and ceph config file.
func networkDiskPath(n *libvirtxml.DomainDiskSourceNetwork, disk *libvirtxml.DomainDisk) (string, error) {
	if n.Protocol != "rbd" {
		return "", unsupported("Unsupported network block protocol '%s'", n.Protocol)
	}
	if strings.Contains(n.Name, ":") {
		return "", unsupported("':' not allowed in RBD source volume name '%s'", n.Name)
	}
	if n.Auth != nil || disk.Auth != nil {
		return "", unsupported("authenticated RBD disks need the secret driver, which is not supported yet")
	}
	var b strings.Builder
	b.WriteString("rbd:")
	b.WriteString(n.Name)
	if n.Snapshot != nil && n.Snapshot.Name != "" {
		b.WriteString("@" + n.Snapshot.Name)
	}
	b.WriteString(":auth_supported=none")
	for i, h := range n.Hosts {
		if i == 0 {
			b.WriteString(":mon_host=")
		} else {
			b.WriteString(`\;`)
		}
		if strings.Contains(h.Name, ":") {
			b.WriteString("[" + strings.ReplaceAll(h.Name, ":", `\:`) + "]")
		} else {
			b.WriteString(h.Name)
		}
		if h.Port != "" {
			b.WriteString(`\:` + h.Port)
		}
	}
	if n.Config != nil && n.Config.File != "" {
		b.WriteString(":conf=" + strings.ReplaceAll(n.Config.File, ":", `\:`))
	}
	return b.String(), nil
}
