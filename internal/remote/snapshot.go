package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// snapshotListMax is libvirt's REMOTE_DOMAIN_SNAPSHOT_LIST_MAX.
const snapshotListMax = 16384

func (p *program) snapshotProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainSnapshotCreateXML, p.snapshotCreate),
		rpc.Handle(procDomainBlockCommit, p.blockCommit),
		rpc.Handle(procDomainBlockPull, p.blockPull),
		rpc.Handle(procDomainBlockRebase, p.blockRebase),
		rpc.Handle(procDomainBlockCopy, p.blockCopy),
		rpc.Handle(procDomainGetBlockJobInfo, p.blockJobInfo),
		rpc.Handle(procDomainBlockJobAbort, p.blockJobAbort),
		rpc.Handle(procDomainBlockJobSetSpeed, p.blockJobSetSpeed),
		rpc.Handle(procDomainSnapshotGetXMLDesc, p.snapshotXML),
		rpc.Handle(procDomainSnapshotNum, p.snapshotNum),
		rpc.Handle(procDomainSnapshotListNames, p.snapshotListNames),
		rpc.Handle(procDomainListAllSnapshots, p.snapshotListAll),
		rpc.Handle(procDomainSnapshotNumChildren, p.snapshotNumChildren),
		rpc.Handle(procDomainSnapshotListChildrenNames, p.snapshotListChildrenNames),
		rpc.Handle(procDomainSnapshotListAllChildren, p.snapshotListAllChildren),
		rpc.Handle(procDomainSnapshotLookupByName, p.snapshotLookup),
		rpc.Handle(procDomainHasCurrentSnapshot, p.snapshotHasCurrent),
		rpc.Handle(procDomainSnapshotCurrent, p.snapshotCurrent),
		rpc.Handle(procDomainSnapshotGetParent, p.snapshotParent),
		rpc.Handle(procDomainSnapshotIsCurrent, p.snapshotIsCurrent),
		rpc.Handle(procDomainSnapshotHasMetadata, p.snapshotHasMetadata),
		rpc.Handle(procDomainRevertToSnapshot, p.snapshotRevert),
		rpc.Handle(procDomainSnapshotDelete, p.snapshotDelete),
	}
}

// snapOf is a snapshot argument as the driver takes it.
func snapOf(s libvirt.DomainSnapshot) driver.Snapshot {
	return driver.Snapshot{Dom: domainOf(s.Dom), Name: s.Name}
}

// wireSnap is a snapshot as remote_nonnull_domain_snapshot carries it.
func wireSnap(s driver.Snapshot) libvirt.DomainSnapshot {
	return libvirt.DomainSnapshot{Name: s.Name, Dom: wireDomain(s.Dom)}
}

func wireSnaps(snaps []driver.Snapshot) []libvirt.DomainSnapshot {
	out := make([]libvirt.DomainSnapshot, len(snaps))
	for i, s := range snaps {
		out[i] = wireSnap(s)
	}
	return out
}

// checkSnapshotMax applies libvirt's bound on a caller's maxnames.
func checkSnapshotMax(n int32) error {
	if n > snapshotListMax {
		return virerr.New(virerr.FromRPC, libvirt.ErrRPC, "maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX")
	}
	return nil
}

// firstNames is at most n of names, as a list call with maxnames answers.
func firstNames(names []string, n int32) []string {
	return names[:min(len(names), int(max(n, 0)))]
}

// snapshotsRet is a list-all answer: the count, and the snapshots when
// the caller asked for them.
func snapshotsRet(snaps []driver.Snapshot, need int32) ([]libvirt.DomainSnapshot, int32, error) {
	if len(snaps) > snapshotListMax {
		return nil, 0, virerr.New(virerr.FromRPC, libvirt.ErrRPC,
			"Too many domain snapshots '%d' for limit '%d'", len(snaps), snapshotListMax)
	}
	if need == 0 {
		return nil, int32(len(snaps)), nil
	}
	return wireSnaps(snaps), int32(len(snaps)), nil
}

func (p *program) snapshotCreate(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotCreateXMLArgs) (*libvirt.DomainSnapshotCreateXMLRet, error) {
	s, err := p.drv.SnapshotCreateXML(ctx, domainOf(a.Dom), a.XMLDesc, a.Flags)
	return &libvirt.DomainSnapshotCreateXMLRet{Snap: wireSnap(s)}, err
}

func (p *program) snapshotXML(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotGetXMLDescArgs) (*libvirt.DomainSnapshotGetXMLDescRet, error) {
	x, err := p.drv.SnapshotXMLDesc(ctx, snapOf(a.Snap), a.Flags)
	return &libvirt.DomainSnapshotGetXMLDescRet{XML: x}, err
}

func (p *program) snapshotNum(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotNumArgs) (*libvirt.DomainSnapshotNumRet, error) {
	snaps, err := p.drv.ListSnapshots(ctx, domainOf(a.Dom), nil, a.Flags)
	return &libvirt.DomainSnapshotNumRet{Num: int32(len(snaps))}, err
}

func (p *program) snapshotListNames(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotListNamesArgs) (*libvirt.DomainSnapshotListNamesRet, error) {
	if err := checkSnapshotMax(a.Maxnames); err != nil {
		return nil, err
	}
	snaps, err := p.drv.ListSnapshots(ctx, domainOf(a.Dom), nil, a.Flags)
	return &libvirt.DomainSnapshotListNamesRet{Names: firstNames(driver.SnapshotNames(snaps), a.Maxnames)}, err
}

func (p *program) snapshotListAll(ctx context.Context, _ *rpc.Client, a *libvirt.DomainListAllSnapshotsArgs) (*libvirt.DomainListAllSnapshotsRet, error) {
	snaps, err := p.drv.ListSnapshots(ctx, domainOf(a.Dom), nil, a.Flags)
	if err != nil {
		return nil, err
	}
	list, n, err := snapshotsRet(snaps, a.NeedResults)
	return &libvirt.DomainListAllSnapshotsRet{Snapshots: list, Ret: n}, err
}

func (p *program) snapshotNumChildren(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotNumChildrenArgs) (*libvirt.DomainSnapshotNumChildrenRet, error) {
	s := snapOf(a.Snap)
	snaps, err := p.drv.ListSnapshots(ctx, s.Dom, &s.Name, a.Flags)
	return &libvirt.DomainSnapshotNumChildrenRet{Num: int32(len(snaps))}, err
}

func (p *program) snapshotListChildrenNames(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotListChildrenNamesArgs) (*libvirt.DomainSnapshotListChildrenNamesRet, error) {
	if err := checkSnapshotMax(a.Maxnames); err != nil {
		return nil, err
	}
	s := snapOf(a.Snap)
	snaps, err := p.drv.ListSnapshots(ctx, s.Dom, &s.Name, a.Flags)
	return &libvirt.DomainSnapshotListChildrenNamesRet{Names: firstNames(driver.SnapshotNames(snaps), a.Maxnames)}, err
}

func (p *program) snapshotListAllChildren(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotListAllChildrenArgs) (*libvirt.DomainSnapshotListAllChildrenRet, error) {
	s := snapOf(a.Snapshot)
	snaps, err := p.drv.ListSnapshots(ctx, s.Dom, &s.Name, a.Flags)
	if err != nil {
		return nil, err
	}
	list, n, err := snapshotsRet(snaps, a.NeedResults)
	return &libvirt.DomainSnapshotListAllChildrenRet{Snapshots: list, Ret: n}, err
}

func (p *program) snapshotLookup(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotLookupByNameArgs) (*libvirt.DomainSnapshotLookupByNameRet, error) {
	s, err := p.drv.SnapshotLookupByName(ctx, domainOf(a.Dom), a.Name, a.Flags)
	return &libvirt.DomainSnapshotLookupByNameRet{Snap: wireSnap(s)}, err
}

func (p *program) snapshotHasCurrent(ctx context.Context, _ *rpc.Client, a *libvirt.DomainHasCurrentSnapshotArgs) (*libvirt.DomainHasCurrentSnapshotRet, error) {
	has, err := p.drv.HasCurrentSnapshot(ctx, domainOf(a.Dom), a.Flags)
	return &libvirt.DomainHasCurrentSnapshotRet{Result: boolInt(has)}, err
}

func (p *program) snapshotCurrent(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotCurrentArgs) (*libvirt.DomainSnapshotCurrentRet, error) {
	s, err := p.drv.SnapshotCurrent(ctx, domainOf(a.Dom), a.Flags)
	return &libvirt.DomainSnapshotCurrentRet{Snap: wireSnap(s)}, err
}

func (p *program) snapshotParent(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotGetParentArgs) (*libvirt.DomainSnapshotGetParentRet, error) {
	s, err := p.drv.SnapshotParent(ctx, snapOf(a.Snap), a.Flags)
	return &libvirt.DomainSnapshotGetParentRet{Snap: wireSnap(s)}, err
}

func (p *program) snapshotIsCurrent(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotIsCurrentArgs) (*libvirt.DomainSnapshotIsCurrentRet, error) {
	cur, err := p.drv.SnapshotIsCurrent(ctx, snapOf(a.Snap), a.Flags)
	return &libvirt.DomainSnapshotIsCurrentRet{Current: boolInt(cur)}, err
}

func (p *program) snapshotHasMetadata(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotHasMetadataArgs) (*libvirt.DomainSnapshotHasMetadataRet, error) {
	has, err := p.drv.SnapshotHasMetadata(ctx, snapOf(a.Snap), a.Flags)
	return &libvirt.DomainSnapshotHasMetadataRet{Metadata: boolInt(has)}, err
}

func (p *program) snapshotRevert(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRevertToSnapshotArgs) (*rpc.Void, error) {
	return nil, p.drv.RevertToSnapshot(ctx, snapOf(a.Snap), a.Flags)
}

func (p *program) snapshotDelete(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSnapshotDeleteArgs) (*rpc.Void, error) {
	return nil, p.drv.SnapshotDelete(ctx, snapOf(a.Snap), uint32(a.Flags))
}

// boolInt is a C boolean as the wire carries it.
func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// The block jobs of a running guest's disks (blockcommit, blockjob), which
// change its images' chain as snapshots do.

func (p *program) blockCommit(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockCommitArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockCommit(ctx, domainOf(a.Dom), a.Disk, optString(a.Base), optString(a.Top), a.Bandwidth, uint32(a.Flags))
}

func (p *program) blockPull(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockPullArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockPull(ctx, domainOf(a.Dom), a.Path, a.Bandwidth, uint32(a.Flags))
}

func (p *program) blockRebase(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockRebaseArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockRebase(ctx, domainOf(a.Dom), a.Path, optString(a.Base), a.Bandwidth, uint32(a.Flags))
}

func (p *program) blockCopy(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockCopyArgs) (*rpc.Void, error) {
	if err := deserializeCheck(a.Params, remoteBlockCopyParamsMax); err != nil {
		return nil, err
	}
	return nil, p.drv.BlockCopy(ctx, domainOf(a.Dom), a.Path, a.Destxml, a.Params, uint32(a.Flags))
}

// remoteBlockCopyParamsMax is REMOTE_DOMAIN_BLOCK_COPY_PARAMETERS_MAX.
const remoteBlockCopyParamsMax = 16

// optString is an optional string's value, "" when absent.
func optString(s libvirt.OptString) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (p *program) blockJobInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetBlockJobInfoArgs) (*libvirt.DomainGetBlockJobInfoRet, error) {
	info, found, err := p.drv.GetBlockJobInfo(ctx, domainOf(a.Dom), a.Path, a.Flags)
	if err != nil || !found {
		return &libvirt.DomainGetBlockJobInfoRet{}, err
	}
	return &libvirt.DomainGetBlockJobInfoRet{Found: 1, Type: info.Type, Bandwidth: info.Bandwidth, Cur: info.Cur, End: info.End}, nil
}

func (p *program) blockJobAbort(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockJobAbortArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockJobAbort(ctx, domainOf(a.Dom), a.Path, uint32(a.Flags))
}

func (p *program) blockJobSetSpeed(ctx context.Context, _ *rpc.Client, a *libvirt.DomainBlockJobSetSpeedArgs) (*rpc.Void, error) {
	return nil, p.drv.BlockJobSetSpeed(ctx, domainOf(a.Dom), a.Path, a.Bandwidth, uint32(a.Flags))
}
