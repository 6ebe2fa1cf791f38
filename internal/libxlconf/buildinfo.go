package libxlconf

import (
	"strconv"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// xenMaxVCPUs is the most vCPUs Xen gives a domain (MAX_VIRT_CPUS on x86;
// an HVM domain's limit, 128, is lower). A definition may name up to 2^32
// (libvirt's parser allows any unsigned int): libxl's list of the vCPUs
// online, one entry each, would be made and sent whole before libxl
// refused it (22 million took 15 s and gigabytes: the fuzzer's input
// 2e2751aabcd7d87e). Nor may more be online than the maximum (15 million
// online of 2 took 2.5 s: FuzzConfigFile's input d0e72eb57532ca18).
const xenMaxVCPUs = 8192

// buildInfo is libxlMakeDomBuildInfo: vCPUs, memory, timers, clock, the
// guest-type specific part, CPU policy and the xenbus limits.
func (t *translation) buildInfo(c *libxltypes.DomainConfig) error {
	b := &c.BInfo
	d := t.d
	maxV, cur := domxml.MaxVCPUs(d), domxml.CurrentVCPUs(d)
	switch {
	case maxV > xenMaxVCPUs:
		return unsupported("%d vCPUs: Xen gives a domain at most %d", maxV, xenMaxVCPUs)
	case cur > maxV:
		// The parse refuses it, but a config file is taken without its
		// parse's checks (it may be older than them).
		return unsupported("maximum vCPU count must not be less than current vCPU count")
	}
	b.MaxVCPUs = int(maxV)
	b.AvailVCPUs = make([]int, 0, cur)
	for i := 0; i < int(cur); i++ {
		b.AvailVCPUs = append(b.AvailVCPUs, i)
	}
	t.vcpuAffinity(b)
	if ct := d.CPUTune; ct != nil && ct.Shares != nil {
		b.SchedParams = &libxltypes.SchedParams{Weight: ct.Shares.Value}
	}
	b.MaxMemKiB = domxml.MemoryKiB(d)
	b.TargetMemKiB = domxml.CurrentMemoryKiB(d)
	if b.TargetMemKiB == 0 {
		b.TargetMemKiB = b.MaxMemKiB
	}
	if err := t.timers(b); err != nil {
		return err
	}
	if err := t.clock(b); err != nil {
		return err
	}
	var err error
	switch t.kind {
	case domxml.HVM:
		err = t.hvmInfo(b)
	case domxml.PVH:
		t.directBoot(b)
		b.PVH = &libxltypes.PVHInfo{}
	default:
		t.pvInfo(b)
	}
	if err != nil {
		return err
	}
	if err := t.cpu(b); err != nil {
		return err
	}
	t.xenbus(b)
	// <msrs unknown='ignore'/>: the guest may touch MSRs Xen does not
	// know without a fault.
	if f := d.Features; f != nil && f.MSRS != nil && f.MSRS.Unknown == "ignore" {
		b.ArchX86 = &libxltypes.ArchX86{MSRRelaxed: libxltypes.True}
	}
	b.ShadowMemKiB = t.host.shadow(b.MaxMemKiB, b.MaxVCPUs)
	return nil
}

// vcpuAffinity is libxlSetVcpuAffinities: with any <vcpupin>, every vCPU
// up to the highest pinned one gets a hard affinity, its pin's CPUs or
// all CPUs, and libxl's automatic NUMA placement is turned off.
func (t *translation) vcpuAffinity(b *libxltypes.BuildInfo) {
	if t.d.CPUTune == nil {
		return
	}
	pins := map[uint][]int{}
	last, all := -1, t.host.MaxCPUs
	for _, p := range t.d.CPUTune.VCPUPin {
		set, err := domxml.ParseCPUSet(p.CPUSet, domxml.CPUMaskLen)
		if err != nil || len(set) == 0 || int(p.VCPU) >= b.MaxVCPUs {
			continue // domxml refused or dropped these already
		}
		pins[p.VCPU] = set
		last = max(last, int(p.VCPU))
		if t.host.MaxCPUs == 0 {
			all = max(all, set[len(set)-1]+1)
		}
	}
	if last < 0 {
		return
	}
	anyCPU := make([]int, all)
	for i := range anyCPU {
		anyCPU[i] = i
	}
	for v := 0; v <= last; v++ {
		if set, ok := pins[uint(v)]; ok {
			b.VCPUHardAffinity = append(b.VCPUHardAffinity, set)
		} else {
			b.VCPUHardAffinity = append(b.VCPUHardAffinity, anyCPU)
		}
	}
	b.NUMAPlacement = libxltypes.False
}

// tscModes maps <timer name='tsc' mode=...> to libxl_tsc_mode.
var tscModes = map[string]string{
	"native":   "native",
	"paravirt": "native_paravirt",
	"emulate":  "always_emulate",
}

func (t *translation) timers(b *libxltypes.BuildInfo) error {
	if t.d.Clock == nil {
		return nil
	}
	for _, tm := range t.d.Clock.Timer {
		switch tm.Name {
		case "tsc":
			if m, ok := tscModes[tm.Mode]; ok {
				b.TSCMode = m
			} else {
				b.TSCMode = "default"
			}
		case "hpet":
			if !t.hvm() {
				return unsupported("unsupported timer type (name) '%s'", tm.Name)
			}
			if tm.Present == "yes" {
				t.hvmPart(b).HPET = libxltypes.True
			}
		default:
			return unsupported("unsupported timer type (name) '%s'", tm.Name)
		}
	}
	return nil
}

// clock is the <clock> offset: localtime, or a variable offset in seconds
// from UTC or from local time.
func (t *translation) clock(b *libxltypes.BuildInfo) error {
	cl := t.d.Clock
	if cl == nil {
		return nil
	}
	offset, basis := cl.Offset, cl.Basis
	adj := cl.Adjustment
	if (offset == "utc" || offset == "localtime") && adj != "" && adj != "reset" {
		// libvirt reads a numeric adjustment on utc or localtime as a
		// variable offset from that basis.
		offset, basis = "variable", offset
	}
	switch offset {
	case "", "utc":
	case "localtime":
		b.Localtime = libxltypes.True
	case "variable":
		if basis == "localtime" {
			b.Localtime = libxltypes.True
		}
		if adj != "" {
			n, err := strconv.ParseInt(adj, 10, 32)
			if err != nil {
				return unsupported("invalid clock adjustment '%s'", adj)
			}
			b.RTCTimeOffset = uint32(int32(n))
		}
	default:
		return unsupported("unsupported clock offset '%s'", offset)
	}
	return nil
}

// directBoot is a kernel given in <os>: kernel, initrd and command line.
func (t *translation) directBoot(b *libxltypes.BuildInfo) {
	if os := t.d.OS; os != nil {
		b.Kernel = os.Kernel
		b.Ramdisk = os.Initrd
		b.Cmdline = os.Cmdline
	}
}

// pvInfo is a PV guest's boot: a direct kernel, or a bootloader (pygrub
// by default, as the xend toolstack did).
func (t *translation) pvInfo(b *libxltypes.BuildInfo) {
	t.directBoot(b)
	pv := &libxltypes.PVInfo{}
	switch {
	case t.d.Bootloader != "":
		pv.Bootloader = t.d.Bootloader
	case b.Kernel == "":
		pv.Bootloader = "pygrub"
	}
	if args := t.d.BootloaderArgs; args != "" {
		pv.BootloaderArgs = splitFields(args)
	}
	if f := t.d.Features; f != nil && f.Xen != nil && f.Xen.E820Host != nil {
		pv.E820Host = libxltypes.DefboolOf(f.Xen.E820Host.State != "off")
	}
	b.PV = pv
}

func splitFields(s string) []string {
	var out []string
	field := ""
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' {
			if field != "" {
				out = append(out, field)
			}
			field = ""
			continue
		}
		field += string(r)
	}
	if field != "" {
		out = append(out, field)
	}
	return out
}

// xenbus carries the xenbus controller's limits.
func (t *translation) xenbus(b *libxltypes.BuildInfo) {
	if t.d.Devices == nil {
		return
	}
	for _, ctl := range t.d.Devices.Controllers {
		if ctl.Type != "xenbus" || ctl.XenBus == nil {
			continue
		}
		b.MaxGrantFrames = ctl.XenBus.MaxGrantFrames
		b.EventChannels = ctl.XenBus.MaxEventChannels
	}
}

// hvmPart is the HVM union member, created on first use.
func (t *translation) hvmPart(b *libxltypes.BuildInfo) *libxltypes.HVMInfo {
	if b.HVM == nil {
		b.HVM = &libxltypes.HVMInfo{}
	}
	return b.HVM
}

func devices(d *libvirtxml.Domain) *libvirtxml.DomainDeviceList {
	if d.Devices == nil {
		return &libvirtxml.DomainDeviceList{}
	}
	return d.Devices
}
