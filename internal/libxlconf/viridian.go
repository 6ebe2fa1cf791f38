package libxlconf

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// libxl_viridian_enlightenment values.
const (
	viridianBase = iota
	viridianFreq
	viridianTimeRefCount
	viridianReferenceTSC
	viridianHcallRemoteTLBFlush
	viridianAPICAssist
	viridianCrashCtl
	viridianSynic
	viridianStimer
	viridianHcallIPI
	// viridianWidth is libxl's LIBXL_BUILDINFO_HVM_VIRIDIAN_ENABLE_DISABLE_WIDTH.
	viridianWidth = 64
)

// viridian turns <hyperv> into libxl enlightenment groups. Passthrough
// enables every group; otherwise any enabled feature brings libxl's
// default set (base, freq, time_ref_count, apic_assist, crash_ctl) and
// each feature adds the group it names.
func (t *translation) viridian(h *libxltypes.HVMInfo) error {
	f := t.d.Features
	if f == nil || f.HyperV == nil {
		return nil
	}
	hv := f.HyperV
	if hv.Mode == "passthrough" {
		for i := 0; i < viridianWidth; i++ {
			h.ViridianEnable = append(h.ViridianEnable, i)
		}
		return nil
	}
	if hv.Relaxed != nil || hv.Spinlocks != nil || hv.Runtime != nil || hv.Reset != nil ||
		hv.VendorId != nil || hv.ReEnlightenment != nil || hv.EVMCS != nil || hv.AVIC != nil {
		return unsupported("unsupported Hyper-V enlightenment for libxl")
	}
	groups := map[int]bool{}
	add := func(s *libvirtxml.DomainFeatureState, g ...int) {
		if s == nil || s.State == "off" {
			return
		}
		for _, v := range append([]int{viridianBase, viridianFreq, viridianTimeRefCount,
			viridianAPICAssist, viridianCrashCtl}, g...) {
			groups[v] = true
		}
	}
	add(hv.VAPIC, viridianAPICAssist)
	add(hv.VPIndex)
	add(hv.Synic, viridianSynic)
	if hv.STimer != nil {
		add(&hv.STimer.DomainFeatureState, viridianStimer, viridianReferenceTSC)
	}
	add(hv.Frequencies, viridianFreq)
	if hv.TLBFlush != nil {
		add(&hv.TLBFlush.DomainFeatureState, viridianHcallRemoteTLBFlush)
	}
	add(hv.IPI, viridianHcallIPI)
	for i := 0; i < viridianWidth; i++ {
		if groups[i] {
			h.ViridianEnable = append(h.ViridianEnable, i)
		}
	}
	return nil
}
