package driver

import (
	"cmp"
	"context"
	"slices"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

// listFiltersAll is VIR_CONNECT_LIST_DOMAINS_FILTERS_ALL: every filter bit.
const listFiltersAll = uint32(1<<16 - 1)

// listView is the domain list in list order, active domains first by id,
// then inactive ones by name, with each domain's identity as it was when
// the view was made. A view is never changed: the driver drops it
// (invalidateList) whenever a domain joins or leaves the list or changes
// id, the only changes that move a domain in the order or change its
// identity, and the next caller makes a new one. So a list call does not
// sort, nor lock each domain, while the list stands still: with 10,000
// domains that sort and those locks were most of the call's time.
type listView struct {
	doms []*domain
	refs []Domain // refs[i] is doms[i]'s identity
	// named are the refs of the domains that have a name, those list
	// calls show: a domain has none while an incoming migration makes it.
	named []Domain
}

// invalidateList drops the list view; the caller holds drv.mu for writing,
// so that no view made before the change is stored after it.
func (drv *Driver) invalidateList() { drv.view.Store(nil) }

// listView returns the current view, making it if there is none.
func (drv *Driver) listView() *listView {
	if v := drv.view.Load(); v != nil {
		return v
	}
	// Made and stored under the read lock: a change, made under the write
	// lock, comes wholly before or after it.
	drv.mu.RLock()
	defer drv.mu.RUnlock()
	if v := drv.view.Load(); v != nil {
		return v
	}
	type entry struct {
		d   *domain
		ref Domain
	}
	entries := make([]entry, 0, len(drv.byUUID))
	for _, d := range drv.byUUID {
		entries = append(entries, entry{d, d.ref()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return compareRefs(a.ref, b.ref) })
	v := &listView{doms: make([]*domain, len(entries)), refs: make([]Domain, len(entries))}
	arena := packNames(entries, func(e entry) string { return e.ref.Name })
	for i, e := range entries {
		v.doms[i], v.refs[i] = e.d, e.ref
		v.refs[i].Name, arena = arena[:len(e.ref.Name)], arena[len(e.ref.Name):]
	}
	v.named = v.refs
	if slices.ContainsFunc(v.refs, func(r Domain) bool { return r.Name == "" }) {
		v.named = slices.DeleteFunc(slices.Clone(v.refs), func(r Domain) bool { return r.Name == "" })
	}
	drv.view.Store(v)
	return v
}

// packNames copies the names of list into one string, in order. The
// view's names are slices of it: reading the list in order (to encode it)
// then reads its names in sequence, rather than each from wherever its
// domain's name lies in the heap, a cache miss per domain that was half
// the cost of encoding 10,000.
func packNames[E any](list []E, name func(E) string) string {
	n := 0
	for _, e := range list {
		n += len(name(e))
	}
	var b strings.Builder
	b.Grow(n)
	for _, e := range list {
		b.WriteString(name(e))
	}
	return b.String()
}

// compareRefs orders active domains first by id, then inactive ones by
// name.
func compareRefs(a, b Domain) int {
	if (a.ID >= 0) != (b.ID >= 0) {
		if a.ID >= 0 {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// all returns every domain in list order; the slice is the caller's.
func (drv *Driver) all() []*domain {
	return slices.Clone(drv.listView().doms)
}

// ListAll is virConnectListAllDomains with its filter flags; active domains
// come first by id, then inactive ones by name. Domain-0 is included. The
// caller must not change the slice's elements: without filters it is the
// list view's own.
func (drv *Driver) ListAll(ctx context.Context, flags uint32) ([]Domain, error) {
	if err := checkFlags(flags, listFiltersAll, "libxlConnectListAllDomains"); err != nil {
		return nil, err
	}
	v := drv.listView()
	if flags == 0 {
		return v.named[:len(v.named):len(v.named)], nil
	}
	var out []Domain
	for i, d := range v.doms {
		if v.refs[i].Name == "" || !idMatches(flags, v.refs[i]) {
			continue
		}
		if flags&^activeFilters != 0 && !drv.matches(d, d.snap(), flags) {
			continue
		}
		out = append(out, v.refs[i])
	}
	return out, nil
}

// activeFilters are the filter bits a domain's id answers alone.
const activeFilters = uint32(libvirt.ConnectListDomainsActive | libvirt.ConnectListDomainsInactive)

// idMatches is the active/inactive filter pair, from the id the view holds.
func idMatches(flags uint32, ref Domain) bool {
	return pair(flags, libvirt.ConnectListDomainsActive, libvirt.ConnectListDomainsInactive, ref.ID >= 0)
}

// pair reports whether a filter pair accepts v: no bit set accepts all.
func pair(flags uint32, yes, no libvirt.ConnectListAllDomainsFlags, v bool) bool {
	y, n := flags&uint32(yes) != 0, flags&uint32(no) != 0
	if !y && !n {
		return true
	}
	return (y && v) || (n && !v)
}

func (drv *Driver) matches(d *domain, s snapshot, flags uint32) bool {
	if !pair(flags, libvirt.ConnectListDomainsActive, libvirt.ConnectListDomainsInactive, s.active()) ||
		!pair(flags, libvirt.ConnectListDomainsPersistent, libvirt.ConnectListDomainsTransient, s.persistent) ||
		!pair(flags, libvirt.ConnectListDomainsAutostart, libvirt.ConnectListDomainsNoAutostart, s.autostart) ||
		!pair(flags, libvirt.ConnectListDomainsHasCheckpoint, libvirt.ConnectListDomainsNoCheckpoint, false) {
		return false
	}
	if flags&uint32(libvirt.ConnectListDomainsHasSnapshot|libvirt.ConnectListDomainsNoSnapshot) != 0 &&
		!pair(flags, libvirt.ConnectListDomainsHasSnapshot, libvirt.ConnectListDomainsNoSnapshot, d.snapshotCount() > 0) {
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
	for _, ref := range drv.listView().refs {
		if ref.ID >= 0 {
			ids = append(ids, ref.ID)
		}
	}
	return ids
}

// ListInactiveNames is virConnectListDefinedDomains: names of inactive
// domains.
func (drv *Driver) ListInactiveNames(ctx context.Context) []string {
	var names []string
	for _, ref := range drv.listView().refs {
		if ref.ID < 0 {
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

// NodeMemoryStat is one figure of virNodeGetMemoryStats, in KiB.
type NodeMemoryStat struct {
	Field string
	KiB   uint64
}

// nodeMemoryFields are virNodeGetMemoryStats' figures of the whole host,
// in libvirt's order (VIR_NODE_MEMORY_STATS_*).
var nodeMemoryFields = [...]string{"total", "free", "buffers", "cached"}

// NodeGetMemoryStats is virNodeGetMemoryStats (no flags), which libvirt's
// libxl driver lacks, as libvirt reads a host's (virHostMemGetStats) but
// of Xen's memory, not Domain-0's kernel's: total and free are the
// hypervisor's (physinfo, as virsh freecell and nodeinfo give them);
// buffers and cached, the page cache of a kernel, are none on Xen. The
// host is one cell, as freecell has it, so cell 0 is the whole host, as
// libvirt takes it on a host without NUMA. With nparams 0, how many
// figures there are.
func (drv *Driver) NodeGetMemoryStats(ctx context.Context, cell int32, nparams int, flags uint32) ([]NodeMemoryStat, int, error) {
	if flags != 0 {
		return nil, 0, errUnsupportedFlags(virerr.FromNone, flags, "virHostMemGetStats")
	}
	if cell > 0 {
		return nil, 0, virerr.InvalidArg(virerr.FromNone, "virHostMemGetStats", "cellNum", "cellNum in %s must be less than or equal to %d", "virHostMemGetStats", 0)
	}
	n := len(nodeMemoryFields)
	if nparams == 0 {
		return nil, n, nil
	}
	if nparams != n {
		return nil, 0, virerr.InvalidArg(virerr.FromNone, "virHostMemGetStatsLinux", "*nparams", "nparams in %s must be %d", "virHostMemGetStatsLinux", n)
	}
	h, err := drv.be.HostInfo(ctx)
	if err != nil {
		return nil, 0, libxlFailed(err, "libxl_get_physinfo_info failed")
	}
	return []NodeMemoryStat{{"total", h.TotalMemKiB}, {"free", h.FreeMemKiB}, {"buffers", 0}, {"cached", 0}}, n, nil
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
