package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

// listFiltersAll is VIR_CONNECT_LIST_DOMAINS_FILTERS_ALL: every filter bit.
const listFiltersAll = uint32(1<<16 - 1)

// ListAll is virConnectListAllDomains with its filter flags; active domains
// come first by id, then inactive ones by name. Domain-0 is included.
func (drv *Driver) ListAll(ctx context.Context, flags uint32) ([]Domain, error) {
	if err := checkFlags(flags, listFiltersAll, "libxlConnectListAllDomains"); err != nil {
		return nil, err
	}
	var out []Domain
	for _, d := range drv.all() {
		s := d.snap()
		if s.ref.Name == "" || !drv.matches(s, flags) {
			continue
		}
		out = append(out, s.ref)
	}
	return out, nil
}

// pair reports whether a filter pair accepts v: no bit set accepts all.
func pair(flags uint32, yes, no libvirt.ConnectListAllDomainsFlags, v bool) bool {
	y, n := flags&uint32(yes) != 0, flags&uint32(no) != 0
	if !y && !n {
		return true
	}
	return (y && v) || (n && !v)
}

func (drv *Driver) matches(s snapshot, flags uint32) bool {
	if !pair(flags, libvirt.ConnectListDomainsActive, libvirt.ConnectListDomainsInactive, s.active()) ||
		!pair(flags, libvirt.ConnectListDomainsPersistent, libvirt.ConnectListDomainsTransient, s.persistent) ||
		!pair(flags, libvirt.ConnectListDomainsAutostart, libvirt.ConnectListDomainsNoAutostart, s.autostart) ||
		!pair(flags, libvirt.ConnectListDomainsHasSnapshot, libvirt.ConnectListDomainsNoSnapshot, false) ||
		!pair(flags, libvirt.ConnectListDomainsHasCheckpoint, libvirt.ConnectListDomainsNoCheckpoint, false) {
		return false
	}
	if flags&uint32(libvirt.ConnectListDomainsManagedsave|libvirt.ConnectListDomainsNoManagedsave) != 0 &&
		!pair(flags, libvirt.ConnectListDomainsManagedsave, libvirt.ConnectListDomainsNoManagedsave, drv.hasManagedSave(s.ref.Name)) {
		return false
	}
	states := uint32(libvirt.ConnectListDomainsRunning | libvirt.ConnectListDomainsPaused |
		libvirt.ConnectListDomainsShutoff | libvirt.ConnectListDomainsOther)
	if flags&states == 0 {
		return true
	}
	switch s.state {
	case libvirt.DomainRunning:
		return flags&uint32(libvirt.ConnectListDomainsRunning) != 0
	case libvirt.DomainPaused:
		return flags&uint32(libvirt.ConnectListDomainsPaused) != 0
	case libvirt.DomainShutoff:
		return flags&uint32(libvirt.ConnectListDomainsShutoff) != 0
	}
	return flags&uint32(libvirt.ConnectListDomainsOther) != 0
}

// ListActiveIDs is virConnectListDomains: ids of active domains.
func (drv *Driver) ListActiveIDs(ctx context.Context) []int32 {
	var ids []int32
	for _, d := range drv.all() {
		if ref := d.ref(); ref.ID >= 0 {
			ids = append(ids, ref.ID)
		}
	}
	return ids
}

// ListInactiveNames is virConnectListDefinedDomains: names of inactive
// domains.
func (drv *Driver) ListInactiveNames(ctx context.Context) []string {
	var names []string
	for _, d := range drv.all() {
		if ref := d.ref(); ref.ID < 0 {
			names = append(names, ref.Name)
		}
	}
	return names
}

// LookupByID is virDomainLookupByID.
func (drv *Driver) LookupByID(ctx context.Context, id int32) (Domain, error) {
	drv.mu.RLock()
	d := drv.byID[id]
	drv.mu.RUnlock()
	if d == nil {
		return Domain{}, libxlErr(libvirt.ErrNoDomain, "")
	}
	return d.ref(), nil
}

// LookupByUUID is virDomainLookupByUUID.
func (drv *Driver) LookupByUUID(ctx context.Context, uuid backend.UUID) (Domain, error) {
	d := drv.lookupUUID(uuid)
	if d == nil {
		return Domain{}, libxlErr(libvirt.ErrNoDomain, "")
	}
	return d.ref(), nil
}

// LookupByName is virDomainLookupByName.
func (drv *Driver) LookupByName(ctx context.Context, name string) (Domain, error) {
	drv.mu.RLock()
	d := drv.byName[name]
	drv.mu.RUnlock()
	if d == nil {
		return Domain{}, libxlErr(libvirt.ErrNoDomain, "")
	}
	return d.ref(), nil
}

// NodeInfo is virNodeInfo (libxlDriverNodeGetInfo).
type NodeInfo struct {
	Model   string
	MemKiB  uint64
	CPUs    int32
	MHz     int32
	Nodes   int32
	Sockets int32
	Cores   int32
	Threads int32
}

// NodeGetInfo is virNodeGetInfo.
func (drv *Driver) NodeGetInfo(ctx context.Context) (NodeInfo, error) {
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return NodeInfo{}, libxlFailed(err, "libxl_get_physinfo_info failed")
	}
	return NodeInfo{
		Model: h.Arch, MemKiB: h.TotalMemKiB, CPUs: int32(h.CPUs), MHz: int32(h.MHz),
		Nodes: int32(h.Nodes), Sockets: 1, Cores: int32(h.CoresPerSocket), Threads: int32(h.ThreadsPerCore),
	}, nil
}

// NodeGetFreeMemory is virNodeGetFreeMemory, in bytes.
func (drv *Driver) NodeGetFreeMemory(ctx context.Context) (uint64, error) {
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return 0, libxlFailed(err, "libxl_get_physinfo_info failed")
	}
	return h.FreeMemKiB * 1024, nil
}

// MaxVcpus is virConnectGetMaxVcpus.
func (drv *Driver) MaxVcpus(ctx context.Context) (int32, error) {
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return -1, libxlFailed(err, "libxl_get_physinfo_info failed")
	}
	return int32(h.MaxCPUs), nil
}

// HostInfo is the hypervisor's host description (for the capabilities XML
// and connectGetVersion, which the RPC layer builds).
func (drv *Driver) HostInfo(ctx context.Context) (backend.HostInfo, error) {
	return drv.be.HostInfo(ctx)
}
