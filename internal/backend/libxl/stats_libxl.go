//go:build libxl

package libxl

import (
	"context"
	"errors"
	"time"

	"virtxend/internal/backend"
)

// Stats implements backend.Backend with one libxl_list_domain for every
// guest; per guest asked for, a libxl_list_vcpu and its marker (as Guests
// reads it); one listing of the xen backend devices in sysfs, with the
// block counters of their disks, and one read of /proc/net/dev for their
// interfaces' counters. A guest that vanishes meanwhile is left out.
func (b *Backend) Stats(ctx context.Context, ids []backend.DomID) ([]backend.GuestStats, error) {
	doms, err := b.c.List()
	if err != nil {
		return nil, err
	}
	var want map[backend.DomID]bool
	if ids != nil {
		want = make(map[backend.DomID]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
	}
	chosen := doms[:0:0]
	domids := map[uint32]bool{}
	for _, d := range doms {
		if want == nil || want[backend.DomID(d.ID)] {
			chosen = append(chosen, d)
			domids[d.ID] = true
		}
	}
	devs := readGuestDevices(xenBackendDevices, procNetDev, domids)
	out := make([]backend.GuestStats, 0, len(chosen))
	for _, d := range chosen {
		vcpus, err := b.c.ListVCPU(d.ID)
		if errors.Is(err, backend.ErrNoGuest) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, backend.GuestStats{
			GuestInfo: b.guestInfo(d), VCPUs: vcpuStats(vcpus),
			Disks: devs.disks[d.ID], NICs: devs.nics[d.ID],
		})
	}
	return out, nil
}

// vcpuStats is libxlDomainGetVcpus' reading of libxl_vcpuinfo.
func vcpuStats(vcpus []VCPUInfo) []backend.VCPUStats {
	out := make([]backend.VCPUStats, 0, len(vcpus))
	for _, v := range vcpus {
		s := backend.VCPUStats{
			ID: int(v.ID), Online: v.Online, State: backend.VCPUOffline,
			CPUTime: time.Duration(v.TimeNS), CPU: int(v.CPU), Affinity: v.Affinity,
		}
		switch {
		case v.Running:
			s.State = backend.VCPURunning
		case v.Blocked:
			s.State = backend.VCPUBlocked
		}
		out = append(out, s)
	}
	return out
}

var _ backend.QEMUDiskCounter = (*Backend)(nil)

// QEMUDiskStats implements backend.QEMUDiskCounter: query-blockstats of
// domain id's device model, for its xen-block disks. One short session:
// libxl waits for the socket while it is held.
func (b *Backend) QEMUDiskStats(ctx context.Context, id backend.DomID) ([]backend.DiskStats, error) {
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return nil, b.guestErr(id, err)
	}
	defer closer.Close()
	disks, err := s.disks()
	if err != nil {
		return nil, err
	}
	stats, err := s.blockStats()
	if err != nil {
		return nil, err
	}
	return xenDiskStats(disks, stats), nil
}
