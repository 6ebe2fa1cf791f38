package driver

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/events"
	"virtxend/internal/job"
	"virtxend/internal/typedparam"
)

// A disk's I/O limits (virsh blkdeviotune), which libvirt's libxl driver
// lacks, as libvirt's QEMU driver keeps them (qemuDomainSetBlockIoTune):
// the disk's <iotune> in the definitions, and on a running guest QEMU's
// block throttling. Xen has that only for the disks its device model
// serves (libxl's qdisk backend: a qcow2 image, or driver name='qemu');
// a disk blkback serves has no limits to set.

// iotuneFamily is a group of parameters that a call sets together: one
// of them named, the others of the family not named are 0
// (qemuBlockIoTuneSetFlags).
type iotuneFamily uint8

const (
	setBytes iotuneFamily = 1 << iota
	setIops
	setBytesMax
	setIopsMax
	setSizeIops
	setGroupName
	setBytesMaxLength
	setIopsMaxLength
)

// iotuneField is one parameter of virDomainGetBlockIoTune: its name
// (VIR_DOMAIN_BLOCK_IOTUNE_*; the tunable event's is "blkdeviotune." and
// it), its family and its figure in a disk's <iotune> (nil for group_name,
// the one string).
type iotuneField struct {
	name   string
	family iotuneFamily
	value  func(*libvirtxml.DomainDiskIOTune) *uint64
}

// iotuneFields are the parameters in libvirt's order.
var iotuneFields = []iotuneField{
	{"total_bytes_sec", setBytes, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalBytesSec }},
	{"read_bytes_sec", setBytes, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadBytesSec }},
	{"write_bytes_sec", setBytes, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteBytesSec }},
	{"total_iops_sec", setIops, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalIopsSec }},
	{"read_iops_sec", setIops, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadIopsSec }},
	{"write_iops_sec", setIops, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteIopsSec }},
	{"total_bytes_sec_max", setBytesMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalBytesSecMax }},
	{"read_bytes_sec_max", setBytesMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadBytesSecMax }},
	{"write_bytes_sec_max", setBytesMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteBytesSecMax }},
	{"total_iops_sec_max", setIopsMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalIopsSecMax }},
	{"read_iops_sec_max", setIopsMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadIopsSecMax }},
	{"write_iops_sec_max", setIopsMax, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteIopsSecMax }},
	{"size_iops_sec", setSizeIops, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.SizeIopsSec }},
	{"group_name", setGroupName, nil},
	{"total_bytes_sec_max_length", setBytesMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalBytesSecMaxLength }},
	{"read_bytes_sec_max_length", setBytesMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadBytesSecMaxLength }},
	{"write_bytes_sec_max_length", setBytesMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteBytesSecMaxLength }},
	{"total_iops_sec_max_length", setIopsMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.TotalIopsSecMaxLength }},
	{"read_iops_sec_max_length", setIopsMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.ReadIopsSecMaxLength }},
	{"write_iops_sec_max_length", setIopsMaxLength, func(t *libvirtxml.DomainDiskIOTune) *uint64 { return &t.WriteIopsSecMaxLength }},
}

var iotuneTypes = func() map[string]typedparam.Type {
	m := map[string]typedparam.Type{}
	for _, f := range iotuneFields {
		m[f.name] = typedparam.ULLong
		if f.value == nil {
			m[f.name] = typedparam.String
		}
	}
	return m
}()

// iotuneLimitMax is QEMU_BLOCK_IOTUNE_MAX, the highest figure libvirt
// passes on (QEMU's THROTTLE_VALUE_MAX).
const iotuneLimitMax = 1_000_000_000_000_000

// GetBlockIoTune is virDomainGetBlockIoTune (flags: VIR_DOMAIN_AFFECT_LIVE
// or _CONFIG): the limits of disk (its target or source) as the running
// guest's device model applies them, or as the persistent definition has
// them; with nparams 0, how many parameters there are.
func (drv *Driver) GetBlockIoTune(ctx context.Context, dom Domain, disk string, nparams int, flags uint32) ([]libvirt.TypedParam, int, error) {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config|typedparam.StringOkay, "libxlDomainGetBlockIoTune"); err != nil {
		return nil, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, 0, err
	}
	if err := drv.beginJobOf(ctx, d, job.Query); err != nil {
		return nil, 0, err
	}
	defer drv.endJob(d)
	s := d.snap()
	if flags, err = modImpact(s, flags&(live|config)); err != nil {
		return nil, 0, err
	}
	if nparams == 0 {
		return nil, len(iotuneFields), nil
	}
	var t libvirtxml.DomainDiskIOTune
	if flags&live != 0 {
		if t, err = drv.liveThrottle(ctx, s, disk); err != nil {
			return nil, 0, err
		}
	} else {
		d.mu.Lock()
		pd := d.persistentDefLocked()
		d.mu.Unlock()
		dd := diskByName(pd, disk)
		if dd == nil {
			return nil, 0, libxlErr(libvirt.ErrInvalidArg, "disk '%s' was not found in the domain config", disk)
		}
		if dd.IOTune != nil {
			t = *dd.IOTune
		}
	}
	var params []libvirt.TypedParam
	for _, f := range iotuneFields[:min(nparams, len(iotuneFields))] {
		if f.value == nil {
			params = append(params, typedparam.NewString(f.name, t.GroupName))
		} else {
			params = append(params, libvirt.TypedParam{Field: f.name, Value: *libvirt.NewTypedParamValueUllong(*f.value(&t))})
		}
	}
	return params, len(params), nil
}

// liveThrottle is what the running guest's device model applies to disk.
func (drv *Driver) liveThrottle(ctx context.Context, s snapshot, disk string) (libvirtxml.DomainDiskIOTune, error) {
	dd := diskByName(s.def.parsed(), disk)
	if dd == nil {
		return libvirtxml.DomainDiskIOTune{}, libxlErr(libvirt.ErrInvalidArg, "disk '%s' not found in domain", disk)
	}
	th, ok := drv.be.(backend.DiskThrottler)
	if !ok {
		return libvirtxml.DomainDiskIOTune{}, domainErr(libvirt.ErrNoSupport, "%s", "virDomainGetBlockIoTune")
	}
	t, err := th.DiskThrottle(ctx, backend.DomID(s.ref.ID), dd.Target.Dev)
	if err != nil {
		return libvirtxml.DomainDiskIOTune{}, throttleErr(err, dd.Target.Dev, s.ref.ID)
	}
	return libvirtxml.DomainDiskIOTune(t), nil
}

// throttleErr is the client's error for the backend's refusal of a disk's
// limits.
func throttleErr(err error, vdev string, id int32) error {
	if errors.Is(err, backend.ErrUnsupported) {
		return hostUnsupported(err)
	}
	// QEMU's refusal says what it refused, as libvirt's QEMU driver
	// passes its monitor's errors on.
	return libxlFailed(err, "Failed to throttle disk '%s' of domain '%d': %v", vdev, id, err)
}

// iotuneChange is what one SetBlockIoTune call names: the figures (0 for
// what it does not name), the families it names and, for the tunable
// event, the parameters as named.
type iotuneChange struct {
	info  libvirtxml.DomainDiskIOTune
	set   iotuneFamily
	event []libvirt.TypedParam
}

// readIotuneChange reads the call's parameters, refusing a figure above
// QEMU's bound and what libvirt refuses to name together.
func readIotuneChange(disk string, params []libvirt.TypedParam) (iotuneChange, error) {
	c := iotuneChange{event: []libvirt.TypedParam{typedparam.NewString("blkdeviotune.disk", disk)}}
	for _, p := range params {
		for _, f := range iotuneFields {
			if p.Field != f.name {
				continue
			}
			c.set |= f.family
			if f.value == nil {
				c.info.GroupName, _ = p.Value.I.(string)
				c.event = append(c.event, typedparam.NewString("blkdeviotune."+f.name, c.info.GroupName))
				continue
			}
			v, _ := p.Value.I.(uint64)
			if v > iotuneLimitMax {
				return c, libxlErr(libvirt.ErrArgumentUnsupported, "block I/O throttle limit value must be no more than %d", uint64(iotuneLimitMax))
			}
			*f.value(&c.info) = v
			c.event = append(c.event, libvirt.TypedParam{Field: "blkdeviotune." + f.name, Value: *libvirt.NewTypedParamValueUllong(v)})
		}
	}
	t := c.info
	for _, e := range []struct {
		total, read, write uint64
		what               string
	}{
		{t.TotalBytesSec, t.ReadBytesSec, t.WriteBytesSec, "bytes_sec"},
		{t.TotalIopsSec, t.ReadIopsSec, t.WriteIopsSec, "iops_sec"},
		{t.TotalBytesSecMax, t.ReadBytesSecMax, t.WriteBytesSecMax, "bytes_sec_max"},
		{t.TotalIopsSecMax, t.ReadIopsSecMax, t.WriteIopsSecMax, "iops_sec_max"},
	} {
		if e.total != 0 && (e.read != 0 || e.write != 0) {
			return c, libxlErr(libvirt.ErrInvalidArg, "total and read/write of %s cannot be set at the same time", e.what)
		}
	}
	return c, nil
}

// SetBlockIoTune is virDomainSetBlockIoTune (flags: VIR_DOMAIN_AFFECT_LIVE,
// _CONFIG), with the checks and merging of libvirt's QEMU driver: a family
// of figures not named keeps its old ones (or the group's, when the call
// names a group another disk is in), all figures 0 lift the limits and
// leave the group. On a running guest QEMU applies the result to the disk
// before the live definition takes it, and a tunable event follows.
// Unlike libvirt's, both disks are looked up before anything changes.
func (drv *Driver) SetBlockIoTune(ctx context.Context, dom Domain, disk string, params []libvirt.TypedParam, flags uint32) error {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainSetBlockIoTune"); err != nil {
		return err
	}
	if err := typedparam.Validate(params, iotuneTypes); err != nil {
		return err
	}
	d, flags, err := drv.modifyNonDom0(ctx, dom, flags)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	c, err := readIotuneChange(disk, params)
	if err != nil {
		return err
	}
	s := d.snap()
	var pd *libvirtxml.Domain
	var confDisk *libvirtxml.DomainDisk
	if flags&config != 0 {
		if pd, err = drv.persistentCopy(d); err != nil {
			return err
		}
		if confDisk = diskByName(pd, disk); confDisk == nil {
			return libxlErr(libvirt.ErrInvalidArg, "missing persistent configuration for disk '%s'", disk)
		}
	}
	if flags&live != 0 {
		if err := drv.setLiveIotune(ctx, d, s, disk, c); err != nil {
			return err
		}
	}
	if pd == nil {
		return nil
	}
	info, err := mergeIotune(pd, confDisk, c)
	if err != nil {
		return err
	}
	setDiskIotune(pd, confDisk, info)
	return drv.savePersistent(d, pd)
}

// setLiveIotune merges the change into the running guest's disk's limits,
// has QEMU apply them, and records them in the live definition.
func (drv *Driver) setLiveIotune(ctx context.Context, d *domain, s snapshot, disk string, c iotuneChange) error {
	def := s.def.parsed()
	dd := diskByName(def, disk)
	if dd == nil {
		return libxlErr(libvirt.ErrInvalidArg, "disk '%s' not found in domain", disk)
	}
	info, err := mergeIotune(def, dd, c)
	if err != nil {
		return err
	}
	if err := checkIotuneMax(info); err != nil {
		return err
	}
	vdev := dd.Target.Dev
	if diskSource(dd) != "" { // an empty cdrom takes its limits with its medium
		th, ok := drv.be.(backend.DiskThrottler)
		if !ok {
			return domainErr(libvirt.ErrNoSupport, "%s", "virDomainSetBlockIoTune")
		}
		if err := th.SetDiskThrottle(ctx, backend.DomID(s.ref.ID), vdev, backend.DiskThrottle(info)); err != nil {
			return throttleErr(err, vdev, s.ref.ID)
		}
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if dd := diskByName(def, vdev); dd != nil {
			setDiskIotune(def, dd, info)
		}
	})
	if err := drv.saveStatusIfActive(d); err != nil {
		return err
	}
	drv.broker.Publish(events.NewTunable(d.ref(), c.event))
	return nil
}

// mergeIotune is qemuDomainSetBlockIoTuneDefaults and
// qemuDomainCheckBlockIoTuneReset: the disk's limits after the change in
// def, whose disks of the named group (or dd itself) give the figures of
// the families the change does not name.
func mergeIotune(def *libvirtxml.Domain, dd *libvirtxml.DomainDisk, c iotuneChange) (libvirtxml.DomainDiskIOTune, error) {
	info, old := c.info, groupIotune(def, dd, c.info.GroupName)
	for _, f := range iotuneFields {
		switch {
		case c.set&f.family != 0 && f.family&(setBytesMaxLength|setIopsMaxLength) != 0:
			// A length cleared where its figure or burst stays set is
			// QEMU's default, 1.
			v, base := f.value(&info), iotuneFields[lengthOf(f.name)]
			maxF := iotuneFields[lengthOf(f.name)+6]
			if *f.value(&old) != 0 && *v == 0 && (*base.value(&info) != 0 || *maxF.value(&info) != 0) {
				*v = 1
			}
		case c.set&f.family != 0:
		case f.value == nil:
			info.GroupName = old.GroupName
		default:
			*f.value(&info) = *f.value(&old)
		}
	}
	if info != (libvirtxml.DomainDiskIOTune{GroupName: info.GroupName}) {
		return info, nil
	}
	if info.GroupName != "" && (dd.IOTune == nil || info.GroupName != dd.IOTune.GroupName) {
		return info, libxlErr(libvirt.ErrConfigUnsupported, "creating a new group/updating existing with all tune parameters zero is not supported")
	}
	info.GroupName = "" // all 0: no limits, and out of the group
	return info, nil
}

// lengthOf is the index in iotuneFields of the figure whose burst length
// is the field named name (total_bytes_sec for total_bytes_sec_max_length).
func lengthOf(name string) int {
	for i, f := range iotuneFields {
		if f.name+"_max_length" == name {
			return i
		}
	}
	return 0
}

// groupIotune is qemuDomainFindGroupBlockIoTune: the limits of the first
// disk in group (dd's own when the group is unnamed or dd's).
func groupIotune(def *libvirtxml.Domain, dd *libvirtxml.DomainDisk, group string) libvirtxml.DomainDiskIOTune {
	own := iotuneOf(dd)
	if group == "" || group == own.GroupName {
		return own
	}
	for i := range def.Devices.Disks {
		if t := iotuneOf(&def.Devices.Disks[i]); t.GroupName == group {
			return t
		}
	}
	return own
}

func iotuneOf(dd *libvirtxml.DomainDisk) libvirtxml.DomainDiskIOTune {
	if dd.IOTune == nil {
		return libvirtxml.DomainDiskIOTune{}
	}
	return *dd.IOTune
}

// checkIotuneMax is the QEMU driver's CHECK_MAX: a burst needs its figure,
// and is no lower than it. (libvirt's test of the family is always true,
// so its message is always the first.)
func checkIotuneMax(t libvirtxml.DomainDiskIOTune) error {
	for i, f := range iotuneFields[:6] {
		v, maxV := *f.value(&t), *iotuneFields[i+6].value(&t)
		switch {
		case maxV == 0:
		case v == 0:
			return libxlErr(libvirt.ErrConfigUnsupported, "cannot reset '%s' when '%s_max' is set", f.name, f.name)
		case maxV < v:
			return libxlErr(libvirt.ErrConfigUnsupported, "value '%s_max' cannot be smaller than '%s'", f.name, f.name)
		}
	}
	return nil
}

// setDiskIotune is virDomainDiskSetBlockIOTune and
// qemuDomainSetGroupBlockIoTune: dd takes t, and so does every disk of
// def in t's group.
func setDiskIotune(def *libvirtxml.Domain, dd *libvirtxml.DomainDisk, t libvirtxml.DomainDiskIOTune) {
	set := func(dd *libvirtxml.DomainDisk) {
		dd.IOTune = nil
		if t != (libvirtxml.DomainDiskIOTune{}) {
			c := t
			dd.IOTune = &c
		}
	}
	set(dd)
	if t.GroupName == "" {
		return
	}
	for i := range def.Devices.Disks {
		if o := &def.Devices.Disks[i]; iotuneOf(o).GroupName == t.GroupName {
			set(o)
		}
	}
}

// diskByName is virDomainDiskByName with ambiguity allowed, as a pointer
// into def (nil if none).
func diskByName(def *libvirtxml.Domain, name string) *libvirtxml.DomainDisk {
	if def == nil {
		return nil
	}
	if i := domxml.DiskIndexByName(def, name, true); i >= 0 {
		return &def.Devices.Disks[i]
	}
	return nil
}

// applyDiskThrottles has the new guest's device model apply its disks'
// limits (the live definition's <iotune>), as libvirt's QEMU driver does
// at start (qemuProcessSetupDiskThrottling).
func (drv *Driver) applyDiskThrottles(ctx context.Context, d *domain) error {
	s := d.snap()
	def := s.def.parsed()
	if def.Devices == nil {
		return nil
	}
	for i := range def.Devices.Disks {
		if err := drv.throttleNewDisk(ctx, s.ref, &def.Devices.Disks[i]); err != nil {
			return err
		}
	}
	return nil
}

// throttleNewDisk applies the limits of dd, a disk the guest of ref has
// just been given. A disk blkback serves has no limits to take: its are
// left out with a warning, as libvirt's libxl driver left out every
// disk's, so that a definition that started there starts here.
func (drv *Driver) throttleNewDisk(ctx context.Context, ref Domain, dd *libvirtxml.DomainDisk) error {
	if dd.IOTune == nil || dd.Target == nil || diskSource(dd) == "" {
		return nil
	}
	err := backend.ErrUnsupported
	if th, ok := drv.be.(backend.DiskThrottler); ok {
		err = th.SetDiskThrottle(ctx, backend.DomID(ref.ID), dd.Target.Dev, backend.DiskThrottle(*dd.IOTune))
	}
	switch {
	case err == nil:
	case errors.Is(err, backend.ErrUnsupported):
		drv.log.Warn("the disk's I/O limits are not applied", "domain", ref.Name, "disk", dd.Target.Dev, "err", err)
	default:
		return throttleErr(err, dd.Target.Dev, ref.ID)
	}
	return nil
}
