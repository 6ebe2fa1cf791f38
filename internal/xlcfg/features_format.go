package xlcfg

import (
	"libvirt.org/go/libvirtxml"
)

// formatFeatures is xenFormatHypervisorFeatures.
func formatFeatures(o *out, d *libvirtxml.Domain) error {
	f := d.Features
	if f == nil {
		f = &libvirtxml.DomainFeatureList{}
	}
	if isHVM(d) {
		o.setBool("pae", f.PAE != nil)
		o.setBool("acpi", f.ACPI != nil)
		o.setBool("apic", f.APIC != nil)
		if f.HAP != nil && f.HAP.State == "off" {
			o.setInt("hap", 0)
		}
		o.setBool("viridian", f.Viridian != nil)
	} else if f.Xen != nil && f.Xen.E820Host != nil && f.Xen.E820Host.State == "on" {
		o.setInt("e820_host", 1)
	}
	if f.Xen != nil && f.Xen.Passthrough != nil && f.Xen.Passthrough.State == "on" {
		switch f.Xen.Passthrough.Mode {
		case "sync_pt", "share_pt":
			o.setStr("passthrough", f.Xen.Passthrough.Mode)
		default:
			o.setStr("passthrough", "enabled")
		}
	}
	if d.Clock == nil {
		return nil
	}
	for _, t := range d.Clock.Timer {
		switch t.Name {
		case "tsc":
			mode := map[string]string{"native": "native", "paravirt": "native_paravirt",
				"emulate": "always_emulate"}[t.Mode]
			if mode == "" {
				mode = "default"
			}
			o.setStr("tsc_mode", mode)
		case "hpet":
			if !isHVM(d) {
				return unsupportedf("unsupported timer type (name) '%s'", t.Name)
			}
			o.setBool("hpet", t.Present != "no")
		default:
			return unsupportedf("unsupported timer type (name) '%s'", t.Name)
		}
	}
	return nil
}
