package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// The protocol's bounds (remote_protocol.x) that the daemon checks itself.
const (
	remoteVcpuinfoMax             = 16384   // REMOTE_VCPUINFO_MAX
	remoteCpumapsMax              = 8388608 // REMOTE_CPUMAPS_MAX
	remoteSchedulerParametersMax  = 16      // REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX
	remoteNumaParametersMax       = 16      // REMOTE_DOMAIN_NUMA_PARAMETERS_MAX
	remoteInterfaceParametersMax  = 16      // REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX
	remoteBlockIoTuneParamsMax    = 32      // REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX
	remoteCPUModelsMax            = 8192    // REMOTE_CONNECT_CPU_MODELS_MAX
	flagsAffectLiveAndConfigError = "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"
)

// tuningProcs are the vCPU, scheduler, NUMA, power management and CPU
// model calls of libvirt's libxl driver, and the bandwidth and disk I/O
// limits and CPU model names of libvirt's QEMU driver.
func (p *program) tuningProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainGetVcpus, p.getVcpus),
		rpc.Handle(procDomainPinVcpu, p.pinVcpu),
		rpc.Handle(procDomainPinVcpuFlags, p.pinVcpuFlags),
		rpc.Handle(procDomainGetVcpuPinInfo, p.getVcpuPinInfo),
		rpc.Handle(procDomainGetSchedulerType, p.getSchedulerType),
		rpc.Handle(procDomainGetSchedulerParameters, p.getSchedulerParameters),
		rpc.Handle(procDomainGetSchedulerParametersFlags, p.getSchedulerParametersFlags),
		rpc.Handle(procDomainSetSchedulerParameters, p.setSchedulerParameters),
		rpc.Handle(procDomainSetSchedulerParametersFlags, p.setSchedulerParametersFlags),
		rpc.Handle(procDomainGetNumaParameters, p.getNumaParameters),
		rpc.Handle(procDomainGetInterfaceParameters, p.getInterfaceParameters),
		rpc.Handle(procDomainSetInterfaceParameters, p.setInterfaceParameters),
		rpc.Handle(procDomainGetBlockIoTune, p.getBlockIoTune),
		rpc.Handle(procDomainSetBlockIoTune, p.setBlockIoTune),
		rpc.Handle(procDomainPMSuspendForDuration, p.pmSuspendForDuration),
		rpc.Handle(procDomainPMWakeup, p.pmWakeup),
		rpc.Handle(procConnectCompareCPU, p.compareCPU),
		rpc.Handle(procConnectBaselineCPU, p.baselineCPU),
		rpc.Handle(procConnectGetCPUModelNames, p.cpuModelNames),
		rpc.Handle(procNodeGetCPUMap, p.nodeGetCPUMap),
	}
}

// The checks of libvirt's entry points (libvirt-domain.c, VIR_FROM_DOMAIN).
func errNullArg(fn, arg string) error {
	return virerr.InvalidArg(virerr.FromDomain, fn, arg, "%s in %s must not be NULL", arg, fn)
}

func errEmptyArg(fn, arg string) error {
	return virerr.InvalidArg(virerr.FromDomain, fn, arg, "string %s in %s must not be empty", arg, fn)
}

func errNotPositive(fn, arg string) error {
	return virerr.InvalidArg(virerr.FromDomain, fn, arg, "%s in %s must be greater than zero", arg, fn)
}

func errLiveAndConfig(fn string) error {
	return virerr.InvalidArg(virerr.FromDomain, fn, "ctl", flagsAffectLiveAndConfigError)
}

func liveAndConfig(flags uint32) bool {
	return flags&uint32(libvirt.DomainAffectLive) != 0 && flags&uint32(libvirt.DomainAffectConfig) != 0
}

// mapsFit are remoteDispatchDomainGetVcpus' and GetVcpuPinInfo's bounds on
// the product of the count and the map length.
func mapsFit(n, maplen int32) bool {
	return int64(n)*int64(maplen) <= remoteCpumapsMax
}

func (p *program) getVcpus(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetVcpusArgs) (*libvirt.DomainGetVcpusRet, error) {
	switch {
	case a.Maxinfo < 0, a.Maplen < 0:
		return nil, dispatchErr("maxinfo must be non-negative") // sic, both
	case a.Maxinfo > remoteVcpuinfoMax:
		return nil, dispatchErr("maxinfo > REMOTE_VCPUINFO_MAX")
	case !mapsFit(a.Maxinfo, a.Maplen):
		return nil, dispatchErr("maxinfo * maplen > REMOTE_CPUMAPS_MAX")
	case a.Maxinfo == 0:
		return nil, errNullArg("virDomainGetVcpus", "info")
	}
	info, maps, err := p.drv.GetVcpus(ctx, domainOf(a.Dom), int(a.Maxinfo), int(a.Maplen))
	if err != nil {
		return nil, err
	}
	ret := &libvirt.DomainGetVcpusRet{Info: make([]libvirt.VcpuInfo, len(info)), Cpumaps: maps}
	for i, v := range info {
		ret.Info[i] = libvirt.VcpuInfo{Number: v.Number, State: v.State, CPUTime: v.CPUTime, CPU: v.CPU}
	}
	return ret, nil
}

// pinVcpu is virDomainPinVcpu: libxlDomainPinVcpu is PinVcpuFlags with
// VIR_DOMAIN_AFFECT_LIVE.
func (p *program) pinVcpu(ctx context.Context, _ *rpc.Client, a *libvirt.DomainPinVcpuArgs) (*rpc.Void, error) {
	if len(a.Cpumap) == 0 {
		return nil, errNullArg("virDomainPinVcpu", "cpumap")
	}
	return nil, p.drv.PinVcpuFlags(ctx, domainOf(a.Dom), a.Vcpu, a.Cpumap, uint32(libvirt.DomainAffectLive))
}

func (p *program) pinVcpuFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainPinVcpuFlagsArgs) (*rpc.Void, error) {
	if len(a.Cpumap) == 0 {
		return nil, errNullArg("virDomainPinVcpuFlags", "cpumap")
	}
	return nil, p.drv.PinVcpuFlags(ctx, domainOf(a.Dom), a.Vcpu, a.Cpumap, a.Flags)
}

func (p *program) getVcpuPinInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetVcpuPinInfoArgs) (*libvirt.DomainGetVcpuPinInfoRet, error) {
	const fn = "virDomainGetVcpuPinInfo"
	switch {
	case a.Ncpumaps < 0:
		return nil, dispatchErr("ncpumaps must be non-negative")
	case a.Maplen < 0:
		return nil, dispatchErr("maplen must be non-negative")
	case a.Ncpumaps > remoteVcpuinfoMax:
		return nil, dispatchErr("ncpumaps > REMOTE_VCPUINFO_MAX")
	case !mapsFit(a.Ncpumaps, a.Maplen):
		return nil, dispatchErr("maxinfo * maplen > REMOTE_CPUMAPS_MAX")
	case a.Ncpumaps > 0 && a.Maplen == 0:
		return nil, errNullArg(fn, "cpumaps") // the daemon allocated no buffer
	case a.Ncpumaps == 0:
		return nil, errNotPositive(fn, "ncpumaps")
	case liveAndConfig(a.Flags):
		return nil, errLiveAndConfig(fn)
	}
	maps, n, err := p.drv.GetVcpuPinInfo(ctx, domainOf(a.Dom), int(a.Ncpumaps), int(a.Maplen), a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetVcpuPinInfoRet{Cpumaps: maps, Num: int32(n)}, nil
}

func (p *program) getSchedulerType(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetSchedulerTypeArgs) (*libvirt.DomainGetSchedulerTypeRet, error) {
	t, n, err := p.drv.GetSchedulerType(ctx, domainOf(a.Dom))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetSchedulerTypeRet{Type: t, Nparams: n}, nil
}

// schedParamsCount is remoteDispatchDomainGetSchedulerParameters' check of
// nparams, then the entry point's: the daemon allocates no buffer for 0.
func schedParamsCount(nparams int32, fn string) error {
	switch {
	case nparams < 0:
		return dispatchErr("nparams must be non-negative")
	case nparams > remoteSchedulerParametersMax:
		return dispatchErr("nparams too large")
	case nparams == 0:
		return errNullArg(fn, "params")
	}
	return nil
}

// getSchedulerParameters is the flagless API: libxl's calls the flagged
// one with 0, and the entry point adds no VIR_TYPED_PARAM_STRING_OKAY.
func (p *program) getSchedulerParameters(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetSchedulerParametersArgs) (*libvirt.DomainGetSchedulerParametersRet, error) {
	if err := schedParamsCount(a.Nparams, "virDomainGetSchedulerParameters"); err != nil {
		return nil, err
	}
	params, err := p.drv.GetSchedulerParametersFlags(ctx, domainOf(a.Dom), int(a.Nparams), 0)
	if err != nil {
		return nil, err
	}
	out, err := typedparam.Serialize(params, remoteSchedulerParametersMax, 0)
	return &libvirt.DomainGetSchedulerParametersRet{Params: out}, err
}

// getSchedulerParametersFlags: the entry point adds
// VIR_TYPED_PARAM_STRING_OKAY for the driver, which supports strings; the
// answer is filtered by the client's own flags.
func (p *program) getSchedulerParametersFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetSchedulerParametersFlagsArgs) (*libvirt.DomainGetSchedulerParametersFlagsRet, error) {
	const fn = "virDomainGetSchedulerParametersFlags"
	if err := schedParamsCount(a.Nparams, fn); err != nil {
		return nil, err
	}
	if liveAndConfig(a.Flags) {
		return nil, errLiveAndConfig(fn)
	}
	params, err := p.drv.GetSchedulerParametersFlags(ctx, domainOf(a.Dom), int(a.Nparams), a.Flags|typedparam.StringOkay)
	if err != nil {
		return nil, err
	}
	out, err := typedparam.Serialize(params, remoteSchedulerParametersMax, a.Flags)
	return &libvirt.DomainGetSchedulerParametersFlagsRet{Params: out}, err
}

// setParamsCheck is what the daemon checks of a list it receives before
// the driver sees it: its length (virTypedParamsDeserialize), its field
// names, and the entry point's NULL check of an empty list.
func setParamsCheck(params []libvirt.TypedParam, fn string) error {
	if err := deserializeCheck(params, remoteSchedulerParametersMax); err != nil {
		return err
	}
	if len(params) == 0 {
		return errNullArg(fn, "params")
	}
	return nil
}

// deserializeCheck is virTypedParamsDeserialize's check of a call's
// parameters: no more than limit, their names NUL-terminated.
func deserializeCheck(params []libvirt.TypedParam, limit int) error {
	if len(params) > limit {
		return virerr.New(virerr.FromNone, libvirt.ErrRPC, "too many parameters '%d' for limit '%d'", len(params), limit)
	}
	return typedparam.CheckFields(params)
}

func (p *program) setSchedulerParameters(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetSchedulerParametersArgs) (*rpc.Void, error) {
	if err := setParamsCheck(a.Params, "virDomainSetSchedulerParameters"); err != nil {
		return nil, err
	}
	return nil, p.drv.SetSchedulerParametersFlags(ctx, domainOf(a.Dom), a.Params, 0)
}

func (p *program) setSchedulerParametersFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetSchedulerParametersFlagsArgs) (*rpc.Void, error) {
	if err := setParamsCheck(a.Params, "virDomainSetSchedulerParametersFlags"); err != nil {
		return nil, err
	}
	return nil, p.drv.SetSchedulerParametersFlags(ctx, domainOf(a.Dom), a.Params, a.Flags)
}

// getInterfaceParameters is remoteDispatchDomainGetInterfaceParameters,
// the two-call query: with nparams 0 the answer is how many parameters
// there are. A negative nparams gets the entry point's error (libvirt's
// daemon would try to allocate that many first).
func (p *program) getInterfaceParameters(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetInterfaceParametersArgs) (*libvirt.DomainGetInterfaceParametersRet, error) {
	const fn = "virDomainGetInterfaceParameters"
	switch {
	case a.Nparams > remoteInterfaceParametersMax:
		return nil, dispatchErr("nparams too large")
	case a.Nparams < 0:
		return nil, virerr.InvalidArg(virerr.FromDomain, fn, "*nparams", "*nparams in %s must be zero or greater", fn)
	}
	params, n, err := p.drv.GetInterfaceParameters(ctx, domainOf(a.Dom), a.Device, int(a.Nparams), uint32(a.Flags)|typedparam.StringOkay)
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.DomainGetInterfaceParametersRet{Nparams: int32(n)}, nil
	}
	out, err := typedparam.Serialize(params, remoteInterfaceParametersMax, uint32(a.Flags))
	return &libvirt.DomainGetInterfaceParametersRet{Params: out}, err
}

func (p *program) setInterfaceParameters(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetInterfaceParametersArgs) (*rpc.Void, error) {
	if err := setParamsCheck(a.Params, "virDomainSetInterfaceParameters"); err != nil {
		return nil, err
	}
	return nil, p.drv.SetInterfaceParameters(ctx, domainOf(a.Dom), a.Device, a.Params, a.Flags)
}

// getBlockIoTune is remoteDispatchDomainGetBlockIoTune, the two-call
// query (nparams 0: how many parameters there are, for any disk or none),
// with the entry point's checks.
func (p *program) getBlockIoTune(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetBlockIOTuneArgs) (*libvirt.DomainGetBlockIOTuneRet, error) {
	const fn = "virDomainGetBlockIoTune"
	switch {
	case a.Nparams > remoteBlockIoTuneParamsMax:
		return nil, dispatchErr("nparams too large")
	case a.Nparams < 0:
		return nil, virerr.InvalidArg(virerr.FromDomain, fn, "*nparams", "*nparams in %s must be zero or greater", fn)
	case a.Nparams != 0 && len(a.Disk) == 0:
		return nil, errNullArg(fn, "disk")
	case liveAndConfig(a.Flags):
		return nil, errLiveAndConfig(fn)
	}
	var disk string
	if len(a.Disk) > 0 {
		disk = a.Disk[0]
	}
	params, n, err := p.drv.GetBlockIoTune(ctx, domainOf(a.Dom), disk, int(a.Nparams), a.Flags|typedparam.StringOkay)
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.DomainGetBlockIOTuneRet{Nparams: int32(n)}, nil
	}
	out, err := typedparam.Serialize(params, remoteBlockIoTuneParamsMax, a.Flags)
	return &libvirt.DomainGetBlockIOTuneRet{Params: out}, err
}

func (p *program) setBlockIoTune(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetBlockIOTuneArgs) (*rpc.Void, error) {
	if err := deserializeCheck(a.Params, remoteBlockIoTuneParamsMax); err != nil {
		return nil, err
	}
	if len(a.Params) == 0 {
		return nil, errNotPositive("virDomainSetBlockIoTune", "nparams")
	}
	return nil, p.drv.SetBlockIoTune(ctx, domainOf(a.Dom), a.Disk, a.Params, a.Flags)
}

// getNumaParameters is the two-call query: with nparams 0 the answer is
// how many parameters there are, in nparams and with no list.
func (p *program) getNumaParameters(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetNumaParametersArgs) (*libvirt.DomainGetNumaParametersRet, error) {
	switch {
	case a.Nparams < 0:
		return nil, dispatchErr("nparams must be non-negative")
	case a.Nparams > remoteNumaParametersMax:
		return nil, dispatchErr("nparams too large")
	}
	params, n, err := p.drv.GetNumaParameters(ctx, domainOf(a.Dom), int(a.Nparams), a.Flags|typedparam.StringOkay)
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.DomainGetNumaParametersRet{Nparams: int32(n)}, nil
	}
	out, err := typedparam.Serialize(params, remoteNumaParametersMax, a.Flags)
	return &libvirt.DomainGetNumaParametersRet{Params: out}, err
}

func (p *program) pmSuspendForDuration(ctx context.Context, _ *rpc.Client, a *libvirt.DomainPmSuspendForDurationArgs) (*rpc.Void, error) {
	return nil, p.drv.PMSuspendForDuration(ctx, domainOf(a.Dom), a.Target, a.Duration, a.Flags)
}

func (p *program) pmWakeup(ctx context.Context, _ *rpc.Client, a *libvirt.DomainPmWakeupArgs) (*rpc.Void, error) {
	return nil, p.drv.PMWakeup(ctx, domainOf(a.Dom), a.Flags)
}

func (p *program) compareCPU(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectCompareCPUArgs) (*libvirt.ConnectCompareCPURet, error) {
	r, err := p.drv.CompareCPU(ctx, a.XML, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectCompareCPURet{Result: r}, nil
}

// cpuModelNames answers the count, and the names when asked for them.
func (p *program) cpuModelNames(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectGetCPUModelNamesArgs) (*libvirt.ConnectGetCPUModelNamesRet, error) {
	names, err := p.drv.CPUModelNames(ctx, a.Arch, a.Flags)
	if err != nil {
		return nil, err
	}
	if len(names) > remoteCPUModelsMax {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrRPC, "Too many CPU models '%d' for limit '%d'", len(names), remoteCPUModelsMax)
	}
	ret := &libvirt.ConnectGetCPUModelNamesRet{Ret: int32(len(names))}
	if a.NeedResults != 0 {
		ret.Models = names
	}
	return ret, nil
}

func (p *program) baselineCPU(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectBaselineCPUArgs) (*libvirt.ConnectBaselineCPURet, error) {
	if len(a.XMLCPUs) == 0 {
		return nil, virerr.InvalidArg(virerr.FromDomain, "virConnectBaselineCPU", "xmlCPUs", "xmlCPUs in virConnectBaselineCPU must not be NULL")
	}
	cpu, err := p.drv.BaselineCPU(ctx, a.XMLCPUs, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectBaselineCPURet{CPU: cpu}, nil
}

// nodeGetCPUMap is beyond libvirt's Xen driver (see driver.NodeGetCPUMap).
func (p *program) nodeGetCPUMap(ctx context.Context, _ *rpc.Client, a *libvirt.NodeGetCPUMapArgs) (*libvirt.NodeGetCPUMapRet, error) {
	m, online, n, err := p.drv.NodeGetCPUMap(ctx, a.NeedMap != 0, a.Flags)
	if err != nil {
		return nil, err
	}
	ret := &libvirt.NodeGetCPUMapRet{Cpumap: m, Ret: n}
	if a.NeedOnline != 0 {
		ret.Online = online
	}
	return ret, nil
}
