package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/store"
)

// setVCPUs sets the online count (virDomainDefSetVcpus).
func setVCPUs(def *libvirtxml.Domain, n int) {
	_, maximum := vcpus(def)
	def.VCPU = vcpuElemFrom(def.VCPU, maximum, n)
}

// setVCPUsMax sets the maximum, lowering the online count to fit
// (virDomainDefSetVcpusMax).
func setVCPUsMax(def *libvirtxml.Domain, n int) {
	cur, _ := vcpus(def)
	def.VCPU = vcpuElemFrom(def.VCPU, n, min(cur, n))
}

func vcpuElemFrom(old *libvirtxml.DomainVCPU, maximum, online int) *libvirtxml.DomainVCPU {
	v := vcpuElem(maximum, online)
	if old != nil {
		v.Placement, v.CPUSet = old.Placement, old.CPUSet
	}
	return v
}

// SetVcpusFlags is virDomainSetVcpusFlags (flags: VIR_DOMAIN_VCPU_LIVE,
// _CONFIG, _MAXIMUM; MAXIMUM only with CONFIG).
func (drv *Driver) SetVcpusFlags(ctx context.Context, dom Domain, n uint32, flags uint32) error {
	live, config, maximum := uint32(libvirt.DomainVCPULive), uint32(libvirt.DomainVCPUConfig), uint32(libvirt.DomainVCPUMaximum)
	if err := checkFlags(flags, live|config|maximum, "libxlDomainSetVcpusFlags"); err != nil {
		return err
	}
	if flags&(live|config) == 0 || flags&(maximum|live) == maximum|live {
		return libxlErr(libvirt.ErrInvalidArg, "invalid flag combination: (0x%x)", flags)
	}
	if n == 0 {
		return libxlErr(libvirt.ErrInvalidArg, "nvcpus is zero")
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if !s.active() && flags&live != 0 {
		return libxlErr(libvirt.ErrOperationInvalid, "cannot set vcpus on an inactive domain")
	}
	if !s.persistent && flags&config != 0 {
		return libxlErr(libvirt.ErrOperationInvalid, "cannot change persistent config of a transient domain")
	}
	host, err := drv.be.HostInfo(ctx)
	if err != nil {
		return libxlFailed(err, "could not determine max vcpus for the domain")
	}
	limit := host.MaxCPUs
	if _, m := vcpus(s.def.parsed()); flags&maximum == 0 && m < limit {
		limit = m
	}
	if int(n) > limit {
		return libxlErr(libvirt.ErrInvalidArg,
			"requested vcpus is greater than max allowable vcpus for the domain: %d > %d", n, limit)
	}
	if flags&live != 0 {
		if err := drv.be.SetVCPUsOnline(ctx, backend.DomID(s.ref.ID), int(n)); err != nil {
			return libxlFailed(err, "Failed to set vcpus for domain '%d' with libxenlight", s.ref.ID)
		}
		drv.editLive(d, func(def *libvirtxml.Domain) { setVCPUs(def, int(n)) })
		if err := drv.saveStatusIfActive(d); err != nil {
			drv.log.Warn("Unable to save status after changing vcpus", "domain", s.ref.Name, "err", err)
		}
	}
	if flags&config != 0 {
		edit := func(def *libvirtxml.Domain) { setVCPUs(def, int(n)) }
		if flags&maximum != 0 {
			edit = func(def *libvirtxml.Domain) { setVCPUsMax(def, int(n)) }
		}
		return drv.editPersistent(d, edit)
	}
	return nil
}

// GetVcpusFlags is virDomainGetVcpusFlags (flags: VIR_DOMAIN_VCPU_LIVE,
// _CONFIG, _MAXIMUM).
func (drv *Driver) GetVcpusFlags(ctx context.Context, dom Domain, flags uint32) (int32, error) {
	live, config, maximum := uint32(libvirt.DomainVCPULive), uint32(libvirt.DomainVCPUConfig), uint32(libvirt.DomainVCPUMaximum)
	if err := checkFlags(flags, live|config|maximum, "libxlDomainGetVcpusFlags"); err != nil {
		return -1, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return -1, err
	}
	s := d.snap()
	if flags&(live|config) == 0 {
		if s.active() {
			flags |= live
		} else {
			flags |= config
		}
	}
	if flags&live != 0 && flags&config != 0 {
		return -1, libxlErr(libvirt.ErrInvalidArg, "invalid flag combination: (0x%x)", flags)
	}
	def := s.def.parsed()
	if flags&live != 0 {
		if !s.active() {
			return -1, libxlErr(libvirt.ErrOperationInvalid, "Domain is not running")
		}
	} else {
		if !s.persistent {
			return -1, libxlErr(libvirt.ErrOperationInvalid, "domain is transient")
		}
		if s.newDef != nil {
			def = s.newDef.parsed()
		}
	}
	cur, m := vcpus(def)
	if flags&maximum != 0 {
		return int32(m), nil
	}
	return int32(cur), nil
}

// GetMaxVcpus is virDomainGetMaxVcpus: the live maximum.
func (drv *Driver) GetMaxVcpus(ctx context.Context, dom Domain) (int32, error) {
	return drv.GetVcpusFlags(ctx, dom, uint32(libvirt.DomainAffectLive)|uint32(libvirt.DomainVCPUMaximum))
}

// GetAutostart is virDomainGetAutostart.
func (drv *Driver) GetAutostart(ctx context.Context, dom Domain) (bool, error) {
	d, err := drv.find(dom)
	if err != nil {
		return false, err
	}
	return d.snap().autostart, nil
}

// SetAutostart is virDomainSetAutostart: a symlink in the autostart
// directory to the config.
func (drv *Driver) SetAutostart(ctx context.Context, dom Domain, autostart bool) error {
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return err
	}
	if err := drv.beginJob(ctx, d); err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if !s.persistent {
		return libxlErr(libvirt.ErrOperationInvalid, "cannot set autostart for transient domain")
	}
	if s.autostart == autostart {
		return nil
	}
	cfgPath, link := drv.configPath(s.ref.Name), drv.autostartPath(s.ref.Name)
	if autostart {
		if err := store.MkdirAll(drv.paths.AutostartDir(), 0o755); err != nil {
			return errSystem(err, "cannot create autostart directory %s", drv.paths.AutostartDir())
		}
		if err := store.Symlink(cfgPath, link); err != nil {
			return errSystem(err, "Failed to create symlink '%s' to '%s'", link, cfgPath)
		}
	} else if err := store.Remove(link); err != nil {
		return errSystem(err, "Failed to delete symlink '%s'", link)
	}
	d.mu.Lock()
	d.autostart = autostart
	d.mu.Unlock()
	return nil
}
