package libxlconf

import (
	"encoding/base64"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// networkDiskPath is libxlMakeNetworkDiskSrc: a network disk as the target
// string QEMU's qdisk backend reads. Only RBD is supported, as in libvirt;
// with hosts, an optional snapshot and ceph config file, and cephx
// authentication with the key of the secret <auth> names, which secret
// gives (nil refuses such disks).
func networkDiskPath(n *libvirtxml.DomainDiskSourceNetwork, disk *libvirtxml.DomainDisk, secret func(*libvirtxml.DomainDiskAuth) ([]byte, error)) (string, error) {
	if n.Protocol != "rbd" {
		return "", virerr.New(virerr.FromLibxl, libvirt.ErrNoSupport, "Unsupported network block protocol '%s'", n.Protocol)
	}
	if strings.Contains(n.Name, ":") {
		return "", unsupported("':' not allowed in RBD source volume name '%s'", n.Name)
	}
	auth := n.Auth
	if auth == nil {
		auth = disk.Auth
	}
	var key string
	if auth != nil {
		if secret == nil {
			return "", unsupported("authenticated RBD disks need the secret driver, which is not supported yet")
		}
		v, err := secret(auth)
		if err != nil {
			return "", err
		}
		// RBD expects the key base64-encoded.
		key = base64.StdEncoding.EncodeToString(v)
	}
	var b strings.Builder
	b.WriteString("rbd:")
	b.WriteString(n.Name)
	if n.Snapshot != nil && n.Snapshot.Name != "" {
		b.WriteString("@" + n.Snapshot.Name)
	}
	if auth != nil && auth.Username != "" {
		b.WriteString(":id=" + escapeColons(auth.Username))
		b.WriteString(":key=" + escapeColons(key) + `:auth_supported=cephx\;none`)
	} else {
		b.WriteString(":auth_supported=none")
	}
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

// escapeColons is virBufferEscape with '\\' for ':': a colon inside a
// value would end it in the target string.
func escapeColons(s string) string {
	return strings.ReplaceAll(s, ":", `\:`)
}
