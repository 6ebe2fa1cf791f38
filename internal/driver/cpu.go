package driver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/cpumodel"
	"virtxend/internal/virerr"
)

// hostCPUCache is the host CPU last decoded, by what it was decoded from:
// the words do not change while the hypervisor runs.
type hostCPUCache struct {
	mu  sync.Mutex
	key cpumodel.HostInfo
	hw  [8]uint32
	cpu *cpumodel.CPU
	pae bool
	ok  bool
}

// HostCPU is the host CPU of the capabilities (libxlCapsInitCPU): the
// model, features and topology libvirt decodes from libxl's physinfo, and
// whether the host has PAE; nil on a host whose CPUID libxl does not
// report. Where libvirt finds no model of its map that fits the words, its
// libxl driver fails to start; here the host CPU is unknown instead, as on
// a host without CPUID (cpu-compare then finds every CPU incompatible),
// and a warning names the words.
func (drv *Driver) HostCPU(ctx context.Context) (*cpumodel.CPU, bool, error) {
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return nil, false, err
	}
	return drv.hostCPU.decode(h, drv.log)
}

func (c *hostCPUCache) decode(h backend.HostInfo, log *slog.Logger) (*cpumodel.CPU, bool, error) {
	in := cpumodel.HostInfo{CPUs: h.CPUs, CoresPerSocket: h.CoresPerSocket, Threads: h.ThreadsPerCore}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && c.hw == h.HWCap && c.key.CPUs == in.CPUs && c.key.CoresPerSocket == in.CoresPerSocket && c.key.Threads == in.Threads {
		return c.cpu, c.pae, nil
	}
	in.HWCap = h.HWCap[:]
	cpu, pae, err := cpumodel.HostCPU(in)
	if err != nil {
		log.Warn("no CPU model of libvirt's map fits the host CPU; the capabilities name none",
			"hw_cap", fmt.Sprintf("%08x", h.HWCap), "err", err)
	}
	c.key, c.hw, c.cpu, c.pae, c.ok = in, h.HWCap, cpu, pae, true
	return cpu, pae, nil
}

// Flags of virConnectCompareCPU and virConnectBaselineCPU.
const (
	compareFailIncompatible = 1 << 0 // VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
	compareValidateXML      = 1 << 1 // VIR_CONNECT_COMPARE_CPU_VALIDATE_XML
	baselineExpandFeatures  = 1 << 0 // VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES
	baselineMigratable      = 1 << 1 // VIR_CONNECT_BASELINE_CPU_MIGRATABLE
)

// CompareCPU is libxlConnectCompareCPU (virCPUCompareXML against the host
// CPU of the capabilities; flags: FAIL_INCOMPATIBLE, VALIDATE_XML):
// incompatible (0), identical (1) or superset (2), or, with
// FAIL_INCOMPATIBLE, libvirt's error saying why not.
func (drv *Driver) CompareCPU(ctx context.Context, xml string, flags uint32) (int32, error) {
	if err := checkFlags(flags, compareFailIncompatible|compareValidateXML, "libxlConnectCompareCPU"); err != nil {
		return int32(cpumodel.CompareError), err
	}
	host, _, err := drv.HostCPU(ctx)
	if err != nil {
		return int32(cpumodel.CompareError), libxlFailed(err, "Failed to get node physical info from libxenlight")
	}
	cpu, err := cpumodel.ParseXML(xml, cpumodel.Auto, flags&compareValidateXML != 0)
	if err != nil {
		return int32(cpumodel.CompareError), err
	}
	res, err := cpumodel.Compare(host, cpu, flags&compareFailIncompatible != 0)
	return int32(res), err
}

// BaselineCPU is libxlConnectBaselineCPU (flags: EXPAND_FEATURES,
// MIGRATABLE): the guest CPU that every host CPU given can run.
func (drv *Driver) BaselineCPU(ctx context.Context, xmls []string, flags uint32) (string, error) {
	if err := checkFlags(flags, baselineExpandFeatures|baselineMigratable, "libxlConnectBaselineCPU"); err != nil {
		return "", err
	}
	cpus := make([]*cpumodel.CPU, 0, len(xmls))
	for _, x := range xmls {
		c, err := cpumodel.ParseXML(x, cpumodel.Host, false)
		if err != nil {
			return "", err
		}
		cpus = append(cpus, c)
	}
	out, err := cpumodel.Baseline(cpus, flags&baselineMigratable != 0)
	if err != nil {
		return "", err
	}
	if flags&baselineExpandFeatures != 0 {
		if err := cpumodel.ExpandFeatures(out); err != nil {
			return "", err
		}
	}
	return out.Format(), nil
}

// CPUModelNames is virConnectGetCPUModelNames, which libvirt's Xen driver
// lacks, as libvirt's QEMU driver answers it: the CPU models of libvirt's
// map for arch (virsh cpu-models), which a definition's <cpu><model> may
// name.
func (drv *Driver) CPUModelNames(ctx context.Context, arch string, flags uint32) ([]string, error) {
	if err := checkFlags(flags, 0, "libxlConnectGetCPUModelNames"); err != nil {
		return nil, err
	}
	if !cpumodel.KnownArch(arch) {
		return nil, libxlErr(libvirt.ErrInvalidArg, "cannot find architecture %s", arch)
	}
	return cpumodel.ModelNames(arch)
}

// NodeGetCPUMap is virNodeGetCPUMap, which libvirt's Xen driver lacks:
// libvirt-python's virDomain.vcpus() and vcpuPinInfo() size their maps
// with it and fail without it, where virsh falls back to the node info.
// It answers as the other drivers' virHostCPUGetMap does, for the Xen
// host's physical CPUs (all online) rather than dom0's: the count, and
// with needMap the map of online CPUs.
func (drv *Driver) NodeGetCPUMap(ctx context.Context, needMap bool, flags uint32) ([]byte, uint32, int32, error) {
	if flags != 0 {
		return nil, 0, -1, virerr.UnsupportedFlags(virerr.FromNone, flags, "virHostCPUGetMap")
	}
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return nil, 0, -1, libxlFailed(err, "Unable to get host information")
	}
	var m []byte
	if needMap {
		m = make([]byte, (h.CPUs+7)/8)
		for c := 0; c < h.CPUs; c++ {
			m[c/8] |= 1 << (c % 8)
		}
	}
	return m, uint32(h.CPUs), int32(h.CPUs), nil
}
