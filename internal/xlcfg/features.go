package xlcfg

import (
	"libvirt.org/go/libvirtxml"
)

func features(d *libvirtxml.Domain) *libvirtxml.DomainFeatureList {
	if d.Features == nil {
		d.Features = &libvirtxml.DomainFeatureList{}
	}
	return d.Features
}

func xenFeatures(d *libvirtxml.Domain) *libvirtxml.DomainFeatureXen {
	f := features(d)
	if f.Xen == nil {
		f.Xen = &libvirtxml.DomainFeatureXen{}
	}
	return f.Xen
}

func addTimer(d *libvirtxml.Domain, t libvirtxml.DomainTimer) {
	if d.Clock == nil {
		d.Clock = &libvirtxml.DomainClock{}
	}
	d.Clock.Timer = append(d.Clock.Timer, t)
}

var tscModes = map[string]string{"always_emulate": "emulate", "native": "native",
	"native_paravirt": "paravirt"}

// parseFeatures is xenParseHypervisorFeatures.
func (c *conf) parseFeatures(d *libvirtxml.Domain) error {
	if mode, ok, err := c.getString("tsc_mode", ""); err != nil {
		return err
	} else if ok {
		m := tscModes[mode]
		if m == "" {
			m = "auto"
		}
		addTimer(d, libvirtxml.DomainTimer{Name: "tsc", Present: "yes", Mode: m})
	}
	if err := c.parsePassthrough(d); err != nil {
		return err
	}
	if !isHVM(d) {
		v, err := c.getBool("e820_host", 0)
		if err != nil {
			return err
		}
		if v == 1 {
			xenFeatures(d).E820Host = &libvirtxml.DomainFeatureXenE820Host{State: "on"}
		}
		return nil
	}
	return c.parseHVMFeatures(d)
}

func (c *conf) parsePassthrough(d *libvirtxml.Domain) error {
	v, ok, err := c.getString("passthrough", "")
	if err != nil || !ok {
		return err
	}
	p := &libvirtxml.DomainFeatureXenPassthrough{State: "on"}
	switch v {
	case "disabled":
		p.State = "off"
	case "enabled":
	case "sync_pt", "share_pt":
		p.Mode = v
	default:
		return c.errorCode(codeConfSyntax, "passthrough", "Invalid passthrough mode %s", v)
	}
	xenFeatures(d).Passthrough = p
	return nil
}

func (c *conf) parseHVMFeatures(d *libvirtxml.Domain) error {
	on := func(key string, def int) (bool, error) {
		v, err := c.getBool(key, def)
		return v == 1, err
	}
	f := features(d)
	if v, err := on("pae", 1); err != nil {
		return err
	} else if v {
		f.PAE = &libvirtxml.DomainFeature{}
	}
	if v, err := on("acpi", 1); err != nil {
		return err
	} else if v {
		f.ACPI = &libvirtxml.DomainFeature{}
	}
	if v, err := on("apic", 1); err != nil {
		return err
	} else if v {
		f.APIC = &libvirtxml.DomainFeatureAPIC{}
	}
	if v, err := on("hap", 1); err != nil {
		return err
	} else if !v {
		f.HAP = &libvirtxml.DomainFeatureState{State: "off"}
	}
	if v, err := on("viridian", 0); err != nil {
		return err
	} else if v {
		f.Viridian = &libvirtxml.DomainFeature{}
	}
	hpet, err := c.getBool("hpet", -1)
	if err != nil {
		return err
	}
	if hpet != -1 {
		addTimer(d, libvirtxml.DomainTimer{Name: "hpet", Present: map[int]string{0: "no", 1: "yes"}[hpet]})
	}
	return nil
}
