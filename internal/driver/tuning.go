package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
)

// Info is virDomainInfo.
type Info struct {
	State     libvirt.DomainState
	MaxMemKiB uint64
	MemKiB    uint64
	NrVirtCPU uint16
	CPUTimeNs uint64
}

func memTotal(def *libvirtxml.Domain) uint64 { return memoryKiB(def.Memory) }

func curBalloon(def *libvirtxml.Domain) uint64 {
	if c := currentMemoryKiB(def.CurrentMemory); c != 0 {
		return c
	}
	return memTotal(def)
}

func setMemTotal(def *libvirtxml.Domain, kib uint64) {
	def.Memory = &libvirtxml.DomainMemory{Value: uint(kib), Unit: "KiB"}
	if curBalloon(def) > kib {
		setCurBalloon(def, kib)
	}
}

func setCurBalloon(def *libvirtxml.Domain, kib uint64) {
	def.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(kib), Unit: "KiB"}
}

func vcpus(def *libvirtxml.Domain) (current, maximum int) {
	sh := shapeOf(def)
	return sh.VCPUsOnline, sh.VCPUsMax
}

// GetInfo is virDomainGetInfo: CPU time and balloon from the hypervisor
// while active.
func (drv *Driver) GetInfo(ctx context.Context, dom Domain) (Info, error) {
	d, err := drv.find(dom)
	if err != nil {
		return Info{}, err
	}
	s := d.snap()
	f := s.def.info()
	info := Info{State: s.state, MaxMemKiB: f.memKiB, MemKiB: f.curKiB, NrVirtCPU: uint16(f.vcpusCur)}
	if s.active() {
		g, err := drv.be.Guest(ctx, backend.DomID(s.ref.ID))
		if err != nil {
			return Info{}, libxlFailed(err, "libxl_domain_info failed for domain '%d'", s.ref.ID)
		}
		info.CPUTimeNs, info.MemKiB = uint64(g.CPUTime.Nanoseconds()), g.CurrentMemKiB
	}
	return info, nil
}

// GetState is virDomainGetState (no flags): state and reason.
func (drv *Driver) GetState(ctx context.Context, dom Domain, flags uint32) (libvirt.DomainState, int32, error) {
	if err := checkFlags(flags, 0, "libxlDomainGetState"); err != nil {
		return 0, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return 0, 0, err
	}
	s := d.snap()
	return s.state, s.reason, nil
}

// GetXMLDesc is virDomainGetXMLDesc (flags: VIR_DOMAIN_XML_SECURE,
// _INACTIVE, _MIGRATABLE; libxl refuses _UPDATE_CPU). The read-only check
// for SECURE and MIGRATABLE belongs to the RPC layer.
func (drv *Driver) GetXMLDesc(ctx context.Context, dom Domain, flags uint32) (string, error) {
	if err := domxml.CheckXMLFlags(flags); err != nil {
		return "", err
	}
	d, err := drv.find(dom)
	if err != nil {
		return "", err
	}
	f := domxml.FormatFlag(flags)
	if f&domxml.FormatInactive == 0 {
		drv.refreshConsoles(d, false) // virsh ttyconsole reads the live XML
	}
	s := d.snap()
	// MIGRATABLE alone keeps the live view (id, ports): libvirtd answers so.
	x, inactiveView := s.def, !s.active()
	if f&domxml.FormatInactive != 0 && s.newDef != nil {
		x, inactiveView = s.newDef, true
	}
	if !inactiveView || !x.saved() {
		return d.formatCached(x.parsed(), s.ref.ID, f, s.netPorts)
	}
	if text, ok := x.savedText(f); ok {
		return text, nil
	}
	// Not through the cache, which would keep the parsed form.
	text, err := formatLive(x.parsed(), s.ref.ID, f, s.netPorts)
	if err == nil {
		x.canonicalize(f, text)
	}
	return text, err
}

// IsActive is virDomainIsActive.
func (drv *Driver) IsActive(ctx context.Context, dom Domain) (bool, error) {
	d, err := drv.find(dom)
	if err != nil {
		return false, err
	}
	return d.snap().active(), nil
}

// IsPersistent is virDomainIsPersistent.
func (drv *Driver) IsPersistent(ctx context.Context, dom Domain) (bool, error) {
	d, err := drv.find(dom)
	if err != nil {
		return false, err
	}
	return d.snap().persistent, nil
}

// IsUpdated is virDomainIsUpdated.
func (drv *Driver) IsUpdated(ctx context.Context, dom Domain) (bool, error) {
	d, err := drv.find(dom)
	if err != nil {
		return false, err
	}
	return d.snap().updated, nil
}

// GetOSType is virDomainGetOSType: "xen", "hvm" or "xenpvh". The model
// keeps a PV guest's type as the XML shows it, "linux"; libvirt keeps
// "xen" and answers that (virsh dominfo: "OS Type: xen").
func (drv *Driver) GetOSType(ctx context.Context, dom Domain) (string, error) {
	d, err := drv.find(dom)
	if err != nil {
		return "", err
	}
	def := d.snap().def.parsed()
	if def.OS == nil || def.OS.Type == nil {
		return "", nil
	}
	if t := def.OS.Type.Type; t != "linux" || def.Type != "xen" {
		return t, nil
	}
	return "xen", nil
}

// GetMaxMemory is virDomainGetMaxMemory, in KiB.
func (drv *Driver) GetMaxMemory(ctx context.Context, dom Domain) (uint64, error) {
	d, err := drv.find(dom)
	if err != nil {
		return 0, err
	}
	return memTotal(d.snap().def.parsed()), nil
}

// modImpact is virDomainObjUpdateModificationImpact: CURRENT becomes LIVE
// or CONFIG; LIVE needs a running domain, CONFIG a persistent one.
func modImpact(s snapshot, flags uint32) (uint32, error) {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if flags&(live|config) == 0 {
		if s.active() {
			flags |= live
		} else {
			flags |= config
		}
	}
	if !s.active() && flags&live != 0 {
		return 0, errNotRunning()
	}
	if !s.persistent && flags&config != 0 {
		return 0, domainErr(libvirt.ErrOperationInvalid, "transient domains do not have any persistent config")
	}
	return flags, nil
}

// SetMemoryFlags is virDomainSetMemoryFlags (flags: VIR_DOMAIN_MEM_LIVE,
// _CONFIG, _MAXIMUM); kib is the new balloon target or, with MAXIMUM, the
// new maximum.
func (drv *Driver) SetMemoryFlags(ctx context.Context, dom Domain, kib uint64, flags uint32) error {
	live, config, maximum := uint32(libvirt.DomainMemLive), uint32(libvirt.DomainMemConfig), uint32(libvirt.DomainMemMaximum)
	if err := checkFlags(flags, live|config|maximum, "libxlDomainSetMemoryFlags"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if flags, err = modImpact(s, flags); err != nil {
		return err
	}
	id := backend.DomID(s.ref.ID)
	if flags&maximum != 0 {
		if flags&live != 0 {
			if err := drv.be.SetMaxMemory(ctx, id, kib); err != nil {
				return libxlFailed(err, "Failed to set maximum memory for domain '%d' with libxenlight", id)
			}
			// Unlike libvirt (9.0 and 11.3), which leaves the live <memory> as it was
			// (dominfo and the live XML then show the old maximum, and a setmem
			// --live above it is refused though Xen would take it), the live
			// definition follows Xen's new maximum (test/xen/oracle-known.txt).
			drv.editLive(d, func(def *libvirtxml.Domain) { setMemTotal(def, kib) })
			if err := drv.saveStatusIfActive(d); err != nil {
				return err
			}
		}
		if flags&config != 0 {
			return drv.editPersistent(d, func(def *libvirtxml.Domain) { setMemTotal(def, kib) })
		}
		return nil
	}
	if kib > memTotal(s.def.parsed()) {
		return libxlErr(libvirt.ErrInvalidArg, "cannot set memory higher than max memory")
	}
	if flags&live != 0 {
		if err := drv.be.SetMemoryTarget(ctx, id, kib); err != nil {
			return libxlFailed(err, "Failed to set memory for domain '%d' with libxenlight", id)
		}
		drv.editLive(d, func(def *libvirtxml.Domain) { setCurBalloon(def, kib) })
		if err := drv.saveStatusIfActive(d); err != nil {
			return err
		}
	}
	if flags&config != 0 {
		return drv.editPersistent(d, func(def *libvirtxml.Domain) { setCurBalloon(def, kib) })
	}
	return nil
}

// editPersistent applies fn to a copy of the persistent definition,
// writes it to disk, and only then swaps it in: readers hold snapshots of
// definitions, which are therefore never changed in place.
func (drv *Driver) editPersistent(d *domain, fn func(def *libvirtxml.Domain)) error {
	c, err := drv.persistentCopy(d)
	if err != nil {
		return err
	}
	fn(c)
	return drv.savePersistent(d, c)
}

// persistentCopy is virDomainObjCopyPersistentDef: a copy of the
// persistent definition to change.
func (drv *Driver) persistentCopy(d *domain) (*libvirtxml.Domain, error) {
	d.mu.Lock()
	pd := d.persistentDefLocked()
	d.mu.Unlock()
	if pd == nil {
		return nil, libxlErr(libvirt.ErrInternalError, "Get persistent config failed")
	}
	return domxml.Copy(pd), nil
}

// savePersistent writes c, a changed persistentCopy, to disk and then
// makes it the persistent definition (virDomainDefSave, then
// virDomainObjAssignDef).
func (drv *Driver) savePersistent(d *domain, c *libvirtxml.Domain) error {
	saved, err := drv.writeConfig(c)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.activeLocked() && d.newDef != nil {
		d.newDef = saved
	} else {
		d.setDefLocked(c, saved)
	}
	d.mu.Unlock()
	return nil
}

// editLive applies fn to a copy of the live definition and swaps it in.
func (drv *Driver) editLive(d *domain, fn func(def *libvirtxml.Domain)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := domxml.Copy(d.def.parsed())
	fn(c)
	d.def = liveDef(c)
}

func (drv *Driver) saveStatusIfActive(d *domain) error {
	s := d.snap()
	if !s.active() || s.ref.ID == 0 {
		return nil
	}
	return drv.writeStatus(s)
}

// HasManagedSaveImage is virDomainHasManagedSaveImage (no flags).
func (drv *Driver) HasManagedSaveImage(ctx context.Context, dom Domain, flags uint32) (bool, error) {
	if err := checkFlags(flags, 0, "libxlDomainHasManagedSaveImage"); err != nil {
		return false, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return false, err
	}
	return drv.hasManagedSave(d.ref().Name), nil
}

// Domain message kinds virDomainGetMessages takes: deprecations, taints
// and (libvirt 11) I/O errors.
const messageKinds = 1 | 2 | 4

// GetMessages is virDomainGetMessages: a Xen guest has no taint,
// deprecation or I/O error messages to report.
func (drv *Driver) GetMessages(ctx context.Context, dom Domain, flags uint32) ([]string, error) {
	if err := checkFlags(flags, messageKinds, "libxlDomainGetMessages"); err != nil {
		return nil, err
	}
	if _, err := drv.find(dom); err != nil {
		return nil, err
	}
	return nil, nil
}
