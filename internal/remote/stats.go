package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
)

// Limits of remote_protocol.x on the statistics calls.
const (
	blockStatsParamsMax   = 16     // REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX
	memoryStatsMax        = 1024   // REMOTE_DOMAIN_MEMORY_STATS_MAX
	nodeCPUStatsMax       = 16     // REMOTE_NODE_CPU_STATS_MAX, the per-CPU limit of DOMAIN_GET_CPU_STATS
	cpuStatsNcpusMax      = 128    // REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX
	cpuStatsMax           = 2048   // REMOTE_DOMAIN_GET_CPU_STATS_MAX
	jobStatsMax           = 64     // REMOTE_DOMAIN_JOB_STATS_MAX
	allDomainStatsMax     = 262144 // REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX, per record
	domainInterfaceMax    = 2048   // REMOTE_DOMAIN_INTERFACE_MAX
	domainIPAddrMax       = 2048   // REMOTE_DOMAIN_IP_ADDR_MAX
	diskErrorsMax         = 256    // REMOTE_DOMAIN_DISK_ERRORS_MAX
	errNparamsTooLarge    = "nparams too large"
	errNparamsNonNegative = "nparams must be non-negative"
)

func (p *program) statsProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainBlockStats, p.blockStats),
		rpc.Handle(procDomainBlockStatsFlags, p.blockStatsFlags),
		rpc.Handle(procDomainGetBlockInfo, p.blockInfo),
		rpc.Handle(procDomainBlockResize, p.blockResize),
		rpc.Handle(procDomainGetDiskErrors, p.diskErrors),
		rpc.Handle(procDomainInterfaceStats, p.interfaceStats),
		rpc.Handle(procDomainMemoryStats, p.memoryStats),
		rpc.Handle(procDomainGetCPUStats, p.cpuStats),
		rpc.Handle(procDomainGetJobInfo, p.jobInfo),
		rpc.Handle(procDomainGetControlInfo, p.controlInfo),
		rpc.Handle(procDomainGetJobStats, p.jobStats),
		rpc.Handle(procDomainInterfaceAddresses, p.interfaceAddresses),
		rpc.Handle(procDomainGetHostname, p.domainGetHostname),
		rpc.Handle(procConnectGetAllDomainStats, p.allDomainStats),
	}
}

func (p *program) blockStats(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockStatsArgs) (*libvirt.DomainBlockStatsRet, error) {
	b, err := p.drv.BlockStats(ctx, domainOf(a.Dom), a.Path)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainBlockStatsRet{RdReq: b.RdReq, RdBytes: b.RdBytes, WrReq: b.WrReq, WrBytes: b.WrBytes, Errs: b.Errs}, nil
}

// blockStatsFlags is remoteDispatchDomainBlockStatsFlags: nparams 0 asks
// for the count, which comes back in nparams; else the parameters come
// back and nparams is left 0, as libvirt's daemon leaves it.
func (p *program) blockStatsFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockStatsFlagsArgs) (*libvirt.DomainBlockStatsFlagsRet, error) {
	switch {
	case a.Nparams < 0:
		return nil, dispatchErr(errNparamsNonNegative)
	case a.Nparams > blockStatsParamsMax:
		return nil, dispatchErr(errNparamsTooLarge)
	}
	params, n, err := p.drv.BlockStatsFlags(ctx, domainOf(a.Dom), a.Path, int(a.Nparams), a.Flags)
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.DomainBlockStatsFlagsRet{Nparams: int32(n)}, nil
	}
	out, err := typedparam.Serialize(params, blockStatsParamsMax, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainBlockStatsFlagsRet{Params: out}, nil
}

func (p *program) blockInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetBlockInfoArgs) (*libvirt.DomainGetBlockInfoRet, error) {
	s, err := p.drv.BlockInfo(ctx, domainOf(a.Dom), a.Path, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetBlockInfoRet{Allocation: s.Allocation, Capacity: s.Capacity, Physical: s.Physical}, nil
}

// diskErrors is remoteDispatchDomainGetDiskErrors: the count, and with
// maxerrors the disks in an error state (none on Xen: driver.DiskErrors).
func (p *program) diskErrors(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetDiskErrorsArgs) (*libvirt.DomainGetDiskErrorsRet, error) {
	if a.Maxerrors > diskErrorsMax {
		return nil, dispatchErr("maxerrors too large")
	}
	n, err := p.drv.DiskErrors(ctx, domainOf(a.Dom), a.Maxerrors, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetDiskErrorsRet{Nerrors: int32(n)}, nil
}

func (p *program) interfaceStats(ctx context.Context, _ *rpc.Client, a *libvirt.DomainInterfaceStatsArgs) (*libvirt.DomainInterfaceStatsRet, error) {
	c, err := p.drv.InterfaceStats(ctx, domainOf(a.Dom), a.Device)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainInterfaceStatsRet{RxBytes: c.RxBytes, RxPackets: c.RxPackets, RxErrs: c.RxErrs, RxDrop: c.RxDrop,
		TxBytes: c.TxBytes, TxPackets: c.TxPackets, TxErrs: c.TxErrs, TxDrop: c.TxDrop}, nil
}

func (p *program) memoryStats(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMemoryStatsArgs) (*libvirt.DomainMemoryStatsRet, error) {
	if a.MaxStats > memoryStatsMax {
		return nil, dispatchErr("maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX")
	}
	stats, err := p.drv.MemoryStats(ctx, domainOf(a.Dom), a.MaxStats, a.Flags)
	if err != nil {
		return nil, err
	}
	ret := &libvirt.DomainMemoryStatsRet{Stats: make([]libvirt.DomainMemoryStat, 0, len(stats))}
	for _, s := range stats {
		ret.Stats = append(ret.Stats, libvirt.DomainMemoryStat{Tag: s.Tag, Val: s.Val})
	}
	return ret, nil
}

// cpuStats is remoteDispatchDomainGetCPUStats: the per-CPU list is sent
// without its holes, and nparams is the driver's return value.
func (p *program) cpuStats(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetCPUStatsArgs) (*libvirt.DomainGetCPUStatsRet, error) {
	switch {
	case a.Nparams > nodeCPUStatsMax:
		return nil, dispatchErr(errNparamsTooLarge)
	case a.Ncpus > cpuStatsNcpusMax:
		return nil, dispatchErr("ncpus too large")
	}
	params, n, err := p.drv.GetCPUStats(ctx, domainOf(a.Dom), a.Nparams, a.StartCPU, a.Ncpus, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.DomainGetCPUStatsRet{Nparams: n}, nil
	}
	out, err := typedparam.Serialize(params, cpuStatsMax, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetCPUStatsRet{Params: out, Nparams: n}, nil
}

func (p *program) jobInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetJobInfoArgs) (*libvirt.DomainGetJobInfoRet, error) {
	ji, err := p.drv.GetJobInfo(ctx, domainOf(a.Dom))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetJobInfoRet{Type: ji.Type, TimeElapsed: ji.TimeElapsed, TimeRemaining: ji.TimeRemaining,
		DataTotal: ji.DataTotal, DataProcessed: ji.DataProcessed, DataRemaining: ji.DataRemaining,
		MemTotal: ji.MemTotal, MemProcessed: ji.MemProcessed, MemRemaining: ji.MemRemaining,
		FileTotal: ji.FileTotal, FileProcessed: ji.FileProcessed, FileRemaining: ji.FileRemaining}, nil
}

func (p *program) blockResize(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockResizeArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockResize(ctx, domainOf(a.Dom), a.Disk, a.Size, uint32(a.Flags))
}

func (p *program) controlInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetControlInfoArgs) (*libvirt.DomainGetControlInfoRet, error) {
	state, details, ms, err := p.drv.ControlInfo(ctx, domainOf(a.Dom), a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetControlInfoRet{State: state, Details: details, StateTime: ms}, nil
}

func (p *program) jobStats(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetJobStatsArgs) (*libvirt.DomainGetJobStatsRet, error) {
	typ, params, err := p.drv.GetJobStats(ctx, domainOf(a.Dom), uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	out, err := typedparam.Serialize(params, jobStatsMax, typedparam.StringOkay)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetJobStatsRet{Type: typ, Params: out}, nil
}

func (p *program) domainGetHostname(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetHostnameArgs) (*libvirt.DomainGetHostnameRet, error) {
	name, err := p.drv.GetHostname(ctx, domainOf(a.Dom), uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetHostnameRet{Hostname: name}, nil
}

// interfaceAddresses is remoteDispatchDomainInterfaceAddresses with
// remoteSerializeDomainInterface's limits.
func (p *program) interfaceAddresses(ctx context.Context, _ *rpc.Client, a *libvirt.DomainInterfaceAddressesArgs) (*libvirt.DomainInterfaceAddressesRet, error) {
	ifaces, err := p.drv.InterfaceAddresses(ctx, domainOf(a.Dom), a.Source, a.Flags)
	if err != nil {
		return nil, err
	}
	if len(ifaces) > domainInterfaceMax {
		return nil, dispatchErr("Number of interfaces, %d exceeds the max limit: %d", len(ifaces), domainInterfaceMax)
	}
	ret := &libvirt.DomainInterfaceAddressesRet{Ifaces: make([]libvirt.DomainInterface, 0, len(ifaces))}
	for _, ifc := range ifaces {
		if len(ifc.Addrs) > domainIPAddrMax { // libvirt's text says interfaces here too
			return nil, dispatchErr("Number of interfaces, %d exceeds the max limit: %d", len(ifc.Addrs), domainIPAddrMax)
		}
		w := libvirt.DomainInterface{Name: ifc.Name}
		if ifc.HWAddr != "" {
			w.Hwaddr = libvirt.OptString{ifc.HWAddr}
		}
		for _, ad := range ifc.Addrs {
			w.Addrs = append(w.Addrs, libvirt.DomainIPAddr{Type: ad.Type, Addr: ad.Addr, Prefix: ad.Prefix})
		}
		ret.Ifaces = append(ret.Ifaces, w)
	}
	return ret, nil
}

// allDomainStats is remoteDispatchConnectGetAllDomainStats: with domains
// it is virDomainListGetStats, else virConnectGetAllDomainStats.
func (p *program) allDomainStats(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectGetAllDomainStatsArgs) (*libvirt.ConnectGetAllDomainStatsRet, error) {
	var doms []driver.Domain
	if len(a.Doms) > 0 {
		doms = make([]driver.Domain, len(a.Doms))
		for i, d := range a.Doms {
			doms[i] = domainOf(d)
		}
	}
	recs, err := p.drv.GetAllDomainStats(ctx, doms, a.Stats, a.Flags)
	if err != nil {
		return nil, err
	}
	if len(recs) > listMax {
		return nil, dispatchErr("Number of domain stats records is %d, which exceeds max limit: %d", len(recs), listMax)
	}
	ret := &libvirt.ConnectGetAllDomainStatsRet{RetStats: make([]libvirt.DomainStatsRecord, len(recs))}
	for i, r := range recs {
		params, err := typedparam.Serialize(r.Params, allDomainStatsMax, typedparam.StringOkay)
		if err != nil {
			return nil, err
		}
		ret.RetStats[i] = libvirt.DomainStatsRecord{Dom: wireDomain(r.Dom), Params: params}
	}
	return ret, nil
}
