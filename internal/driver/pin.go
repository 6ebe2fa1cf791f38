package driver

import (
	"context"
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
)

// VcpuInfo is virVcpuInfo: one vCPU's number, state (virVcpuState), CPU
// time in nanoseconds and the physical CPU it runs or last ran on.
type VcpuInfo struct {
	Number  uint32
	State   int32
	CPUTime uint64
	CPU     int32
}

// cpumapBytes sets the bits of cpus that fit in a map of len(m) bytes
// (VIR_USE_CPU): CPU c is bit c%8 of byte c/8.
func cpumapBytes(m []byte, cpus []int) {
	for _, c := range cpus {
		if c >= 0 && c/8 < len(m) {
			m[c/8] |= 1 << (c % 8)
		}
	}
}

// cpumapCPUs lists the CPUs a map sets (virBitmapNewData).
func cpumapCPUs(m []byte) []int {
	var cpus []int
	for i, b := range m {
		for bit := 0; bit < 8; bit++ {
			if b&(1<<bit) != 0 {
				cpus = append(cpus, i*8+bit)
			}
		}
	}
	return cpus
}

// GetVcpus is libxlDomainGetVcpus: for the first maxinfo vCPUs the
// hypervisor lists, their state, time, CPU and affinity (maplen bytes
// each). As libvirt, it answers maxinfo entries, those past the domain's
// vCPUs zero.
func (drv *Driver) GetVcpus(ctx context.Context, dom Domain, maxinfo, maplen int) ([]VcpuInfo, []byte, error) {
	d, err := drv.find(dom)
	if err != nil {
		return nil, nil, err
	}
	s := d.snap()
	if !s.active() {
		return nil, nil, errNotRunning()
	}
	stats, err := drv.be.Stats(ctx, []backend.DomID{backend.DomID(s.ref.ID)})
	if err == nil && len(stats) != 1 {
		err = backend.ErrNoGuest
	}
	if err != nil {
		return nil, nil, libxlFailed(err, "Failed to list vcpus for domain '%d' with libxenlight", s.ref.ID)
	}
	info := make([]VcpuInfo, maxinfo)
	maps := make([]byte, maxinfo*max(maplen, 0))
	for i, v := range stats[0].VCPUs {
		if i >= maxinfo {
			break
		}
		info[i] = VcpuInfo{Number: uint32(v.ID), State: int32(v.State), CPUTime: uint64(v.CPUTime.Nanoseconds()), CPU: int32(v.CPU)}
		if maplen > 0 {
			cpumapBytes(maps[i*maplen:(i+1)*maplen], v.Affinity)
		}
	}
	return info, maps, nil
}

// vcpuPins is a definition's <cputune><vcpupin>s by vCPU.
func vcpuPins(def *libvirtxml.Domain) map[uint][]int {
	pins := map[uint][]int{}
	if def.CPUTune == nil {
		return pins
	}
	for _, p := range def.CPUTune.VCPUPin {
		if set, err := domxml.ParseCPUSet(p.CPUSet, domxml.CPUMaskLen); err == nil {
			pins[p.VCPU] = set
		}
	}
	return pins
}

// setVcpuPin gives vCPU vcpu the cpumask cpus in def (virDomainVcpuDef's
// cpumask, formatted as <cputune><vcpupin>), in vCPU order.
func setVcpuPin(def *libvirtxml.Domain, vcpu uint, cpus []int) {
	if def.CPUTune == nil {
		def.CPUTune = &libvirtxml.DomainCPUTune{}
	}
	pin := libvirtxml.DomainCPUTuneVCPUPin{VCPU: vcpu, CPUSet: domxml.FormatCPUSet(cpus)}
	pins := slices.DeleteFunc(slices.Clone(def.CPUTune.VCPUPin), func(p libvirtxml.DomainCPUTuneVCPUPin) bool { return p.VCPU == vcpu })
	i, _ := slices.BinarySearchFunc(pins, vcpu, func(p libvirtxml.DomainCPUTuneVCPUPin, v uint) int { return int(p.VCPU) - int(v) })
	def.CPUTune.VCPUPin = slices.Insert(pins, i, pin)
}

// PinVcpuFlags is libxlDomainPinVcpuFlags (flags: VIR_DOMAIN_AFFECT_LIVE,
// _CONFIG): the vCPU, which must be online in the definition changed,
// gets the CPUs of cpumap as its hard affinity on the hypervisor (live)
// and as its <vcpupin> in the live or persistent definition.
//
// Two choices differ from libvirt 11.3, which a user would not expect:
// with both LIVE and CONFIG libvirt pins the running guest and changes
// only its live definition, while here the persistent one changes too,
// as the QEMU driver does; and a map with no CPU, which libvirt would
// write as a <vcpupin> with an empty cpuset into a config it can then no
// longer load, is refused as the QEMU driver refuses it.
func (drv *Driver) PinVcpuFlags(ctx context.Context, dom Domain, vcpu uint32, cpumap []byte, flags uint32) error {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainPinVcpuFlags"); err != nil {
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
	target := s.def.parsed()
	if flags&live == 0 && s.newDef != nil {
		target = s.newDef.parsed()
	}
	online, _ := vcpus(target)
	if int64(vcpu) >= int64(online) {
		return libxlErr(libvirt.ErrInvalidArg, "vcpu '%d' is not active", vcpu)
	}
	if flags&config != 0 && flags&live != 0 && s.newDef != nil {
		if n, _ := vcpus(s.newDef.parsed()); int64(vcpu) >= int64(n) {
			return libxlErr(libvirt.ErrInvalidArg, "vcpu '%d' is not active", vcpu)
		}
	}
	cpus := cpumapCPUs(cpumap)
	if len(cpus) == 0 && flags&live == 0 {
		return libxlErr(libvirt.ErrInvalidArg, "Empty cpu list for pinning")
	}
	if flags&live != 0 {
		if err := drv.pinLive(ctx, d, s, vcpu, cpus); err != nil {
			return err
		}
	}
	if flags&config != 0 {
		return drv.editPersistent(d, func(def *libvirtxml.Domain) { setVcpuPin(def, uint(vcpu), cpus) })
	}
	return nil
}

func (drv *Driver) pinLive(ctx context.Context, d *domain, s snapshot, vcpu uint32, cpus []int) error {
	p, ok := drv.be.(backend.VCPUPinner)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainPinVcpuFlags")
	}
	if err := p.PinVCPU(ctx, backend.DomID(s.ref.ID), int(vcpu), cpus); err != nil {
		return libxlFailed(err, "Failed to pin vcpu '%d' with libxenlight", vcpu)
	}
	drv.editLive(d, func(def *libvirtxml.Domain) { setVcpuPin(def, uint(vcpu), cpus) })
	return drv.saveStatusIfActive(d)
}

// GetVcpuPinInfo is libxlDomainGetVcpuPinInfo
// (virDomainDefGetVcpuPinInfoHelper; flags: VIR_DOMAIN_AFFECT_LIVE,
// _CONFIG): for each of the first ncpumaps vCPUs of the live or persistent
// definition its <vcpupin>, else the <vcpu cpuset>, else every CPU libxl
// knows; it answers how many it filled.
func (drv *Driver) GetVcpuPinInfo(ctx context.Context, dom Domain, ncpumaps, maplen int, flags uint32) ([]byte, int, error) {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainGetVcpuPinInfo"); err != nil {
		return nil, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, 0, err
	}
	s := d.snap()
	if flags, err = modImpact(s, flags); err != nil {
		return nil, 0, err
	}
	def := s.def.parsed()
	if flags&live == 0 && s.newDef != nil {
		def = s.newDef.parsed()
	}
	host, err := drv.be.HostInfo(ctx)
	if err != nil {
		return nil, 0, libxlFailed(err, "Unable to get host information")
	}
	all := make([]int, host.MaxCPUs)
	for i := range all {
		all[i] = i
	}
	var deflt []int
	if def.VCPU != nil && def.VCPU.CPUSet != "" {
		deflt, _ = domxml.ParseCPUSet(def.VCPU.CPUSet, domxml.CPUMaskLen)
	}
	pins := vcpuPins(def)
	_, maxVCPUs := vcpus(def)
	maps := make([]byte, ncpumaps*maplen)
	n := 0
	for ; n < maxVCPUs && n < ncpumaps; n++ {
		set, ok := pins[uint(n)]
		switch {
		case ok:
		case deflt != nil:
			set = deflt
		default:
			set = all
		}
		cpumapBytes(maps[n*maplen:(n+1)*maplen], set)
	}
	return maps, n, nil
}
