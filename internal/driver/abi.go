package driver

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
)

// checkABI is the part of virDomainDefCheckABIStability this driver makes
// of a replacement definition dst for src, in libvirt's order and words:
// the virtualization type, the UUID and the name must stay. (libvirt goes
// on to compare every device; those checks are still to come.)
func checkABI(src *libvirtxml.Domain, srcUUID backend.UUID, dst *libvirtxml.Domain, dstUUID backend.UUID) error {
	if src.Type != dst.Type {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain virt type %s does not match source %s", dst.Type, src.Type)
	}
	if srcUUID != dstUUID {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain uuid %s does not match source %s", dstUUID, srcUUID)
	}
	if src.Name != dst.Name {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain name '%s' does not match source '%s'", dst.Name, src.Name)
	}
	return nil
}
