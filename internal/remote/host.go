package remote

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/caps"
	"virtxend/internal/hostname"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

func (p *program) hostProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procConnectGetVersion, p.getVersion),
		rpc.Handle(procConnectGetHostname, p.getHostname),
		rpc.Handle(procConnectGetSysinfo, p.getSysinfo),
		rpc.Handle(procConnectGetMaxVcpus, p.getMaxVcpusHost),
		rpc.Handle(procNodeGetInfo, p.nodeGetInfo),
		rpc.Handle(procConnectGetCapabilities, p.getCapabilities),
		rpc.Handle(procConnectGetDomainCapabilities, p.getDomainCapabilities),
		rpc.Handle(procNodeGetFreeMemory, p.nodeFreeMemory),
		rpc.Handle(procNodeGetCellsFreeMemory, p.nodeCellsFreeMemory),
		rpc.Handle(procNodeGetMemoryStats, p.nodeMemoryStats),
		rpc.Handle(procNodeGetSecurityModel, p.nodeSecurityModel),
	}
}

// getVersion is the Xen version, encoded as libvirt does (major*1e6 + minor*1e3).
func (p *program) getVersion(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.ConnectGetVersionRet, error) {
	h, err := p.drv.HostInfo(ctx)
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectGetVersionRet{HvVer: uint64(h.XenMajor)*1000000 + uint64(h.XenMinor)*1000}, nil
}

// getHostname is libxlConnectGetHostname: virGetHostname, the name the
// migration cookie gives too.
func (p *program) getHostname(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.ConnectGetHostnameRet, error) {
	name, err := hostname.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectGetHostnameRet{Hostname: name}, nil
}

// getSysinfo reports the host's SMBIOS data as libvirt's sysinfo XML
// (libxlConnectGetSysinfo), or libxl's error when it could not be read.
func (p *program) getSysinfo(_ context.Context, _ *rpc.Client, a *libvirt.ConnectGetSysinfoArgs) (*libvirt.ConnectGetSysinfoRet, error) {
	if a.Flags != 0 {
		return nil, unsupportedFlags(a.Flags, "libxlConnectGetSysinfo")
	}
	d := p.sysinfo.get(func(err error) { p.log.Warn("cannot read the host's SMBIOS", "err", err) })
	if d == nil {
		return nil, virerr.New(virerr.FromLibxl, libvirt.ErrConfigUnsupported, "%s", "Host SMBIOS information is not available")
	}
	return &libvirt.ConnectGetSysinfoRet{Sysinfo: d.Format()}, nil
}

func unsupportedFlags(flags uint32, fn string) error {
	return virerr.UnsupportedFlags(virerr.FromLibxl, flags, fn)
}

func (p *program) getMaxVcpusHost(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectGetMaxVcpusArgs) (*libvirt.ConnectGetMaxVcpusRet, error) {
	if t := optional(a.Type); t != nil && !strings.EqualFold(*t, "xen") {
		return nil, virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg, "unknown type '%s'", *t)
	}
	n, err := p.drv.MaxVcpus(ctx)
	return &libvirt.ConnectGetMaxVcpusRet{MaxVcpus: n}, err
}

func (p *program) nodeGetInfo(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.NodeGetInfoRet, error) {
	n, err := p.drv.NodeGetInfo(ctx)
	if err != nil {
		return nil, err
	}
	ret := &libvirt.NodeGetInfoRet{Memory: n.MemKiB, Cpus: n.CPUs, Mhz: n.MHz, Nodes: n.Nodes,
		Sockets: n.Sockets, Cores: n.Cores, Threads: n.Threads}
	for i := 0; i < len(n.Model) && i < len(ret.Model)-1; i++ {
		ret.Model[i] = int8(n.Model[i])
	}
	return ret, nil
}

// capsHost describes the host to the capabilities builders.
func capsHost(h backend.HostInfo) caps.Host {
	c := caps.Host{
		Arch: h.Arch, CPUs: h.CPUs, CoresPerSocket: h.CoresPerSocket, ThreadsPerCore: h.ThreadsPerCore,
		MemoryKiB: h.TotalMemKiB, XenCaps: strings.Join(h.GuestTypes, " "),
	}
	for _, n := range h.NUMA {
		cell := caps.Cell{ID: n.ID, MemoryKiB: n.MemKiB, Distances: n.Distances}
		for _, p := range n.CPUs {
			cell.CPUs = append(cell.CPUs, caps.CPU{ID: p.ID, Socket: p.Socket, Core: p.Core})
		}
		c.Cells = append(c.Cells, cell)
	}
	return c
}

// capsHostCPU adds the host CPU libvirt decodes from the hypervisor's
// CPUID words (libxlCapsInitCPU): its model, features and PAE.
func (p *program) capsHostCPU(ctx context.Context, h backend.HostInfo) (caps.Host, error) {
	ch := capsHost(h)
	cpu, pae, err := p.drv.HostCPU(ctx)
	if err != nil {
		return ch, err
	}
	// libvirt adds the host's pae before it decodes the model, so a
	// host no model fits still has it
	ch.PAE = pae
	if cpu != nil {
		ch.CPUModel, ch.CPUVendor = cpu.Model, cpu.Vendor
		for _, f := range cpu.Features {
			ch.CPUFeatures = append(ch.CPUFeatures, f.Name)
		}
	}
	return ch, nil
}

func (p *program) getCapabilities(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.ConnectGetCapabilitiesRet, error) {
	h, err := p.drv.HostInfo(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := p.capsHostCPU(ctx, h)
	if err != nil {
		return nil, err
	}
	xml, err := caps.Capabilities(ch)
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectGetCapabilitiesRet{Capabilities: xml}, nil
}

func (p *program) getDomainCapabilities(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectGetDomainCapabilitiesArgs) (*libvirt.ConnectGetDomainCapabilitiesRet, error) {
	if err := caps.CheckDomainCapsFlags(uint32(a.Flags)); err != nil {
		return nil, err
	}
	h, err := p.drv.HostInfo(ctx)
	if err != nil {
		return nil, err
	}
	str := func(s libvirt.OptString) string {
		if v := optional(s); v != nil {
			return *v
		}
		return ""
	}
	xml, err := caps.DomainCapabilities(capsHost(h), str(a.Emulatorbin), str(a.Arch), str(a.Machine), str(a.Virttype))
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectGetDomainCapabilitiesRet{Capabilities: xml}, nil
}

func (p *program) nodeFreeMemory(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.NodeGetFreeMemoryRet, error) {
	free, err := p.drv.NodeGetFreeMemory(ctx)
	return &libvirt.NodeGetFreeMemoryRet{FreeMem: free}, err
}

// nodeCellsFreeMemory answers for the one NUMA cell the host reports.
func (p *program) nodeCellsFreeMemory(ctx context.Context, _ *rpc.Client, a *libvirt.NodeGetCellsFreeMemoryArgs) (*libvirt.NodeGetCellsFreeMemoryRet, error) {
	if a.Maxcells > 1024 {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrRPC, "maxCells > REMOTE_NODE_MAX_CELLS")
	}
	if a.StartCell != 0 || a.Maxcells < 1 {
		return nil, virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg,
			"start %d out of range (0-%d)", a.StartCell, 0)
	}
	free, err := p.drv.NodeGetFreeMemory(ctx)
	return &libvirt.NodeGetCellsFreeMemoryRet{Cells: []uint64{free}}, err
}

// nodeMemoryStats is remoteDispatchNodeGetMemoryStats with the entry
// point's checks; with nparams 0 the answer is how many figures there are.
func (p *program) nodeMemoryStats(ctx context.Context, _ *rpc.Client, a *libvirt.NodeGetMemoryStatsArgs) (*libvirt.NodeGetMemoryStatsRet, error) {
	const fn = "virNodeGetMemoryStats"
	switch {
	case a.Nparams > remoteNodeMemoryStatsMax:
		return nil, dispatchErr("nparams too large")
	case a.Nparams < 0:
		return nil, virerr.InvalidArg(virerr.FromDomain, fn, "*nparams", "*nparams in %s must be zero or greater", fn)
	case a.CellNum < 0 && a.CellNum != nodeMemoryStatsAllCells:
		return nil, virerr.InvalidArg(virerr.FromDomain, fn, "cpuNum", "cellNum in %s only accepts %d as a negative value", fn, nodeMemoryStatsAllCells)
	}
	stats, n, err := p.drv.NodeGetMemoryStats(ctx, a.CellNum, int(a.Nparams), a.Flags)
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.NodeGetMemoryStatsRet{Nparams: int32(n)}, nil
	}
	out := make([]libvirt.NodeGetMemoryStats, len(stats))
	for i, s := range stats {
		out[i] = libvirt.NodeGetMemoryStats{Field: s.Field, Value: s.KiB}
	}
	return &libvirt.NodeGetMemoryStatsRet{Params: out}, nil
}

// The bounds of NODE_GET_MEMORY_STATS (remote_protocol.x, libvirt-host.h).
const (
	remoteNodeMemoryStatsMax = 16 // REMOTE_NODE_MEMORY_STATS_MAX
	nodeMemoryStatsAllCells  = -1 // VIR_NODE_MEMORY_STATS_ALL_CELLS
)

// nodeSecurityModel is empty: libxl has no security driver, and an empty
// model tells virsh dominfo not to ask for a label.
func (p *program) nodeSecurityModel(context.Context, *rpc.Client, *rpc.Void) (*libvirt.NodeGetSecurityModelRet, error) {
	return &libvirt.NodeGetSecurityModelRet{}, nil
}
