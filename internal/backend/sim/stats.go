package sim

import (
	"context"
	"slices"
	"strconv"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// Stats implements backend.Backend: every guest asked for, from one read
// of the host's state.
//
// The simulated host has no real devices, so the counters of the disks
// and network interfaces in a guest's configuration are synthetic:
// deterministic functions of the guest's CPU time in milliseconds, t,
// which grows while the guest runs (by its online vCPUs per second) and
// stands still while it is paused or shut down, and of the device's place
// k (1 for the first disk or NIC, 2 for the second, ...):
//
//	disk: rd_req = t·k/20, rd_bytes = rd_req·4096, wr_req = t·k/50,
//	      wr_bytes = wr_req·8192, flush_req = wr_req/8, errors = 0
//	NIC:  rx_packets = t·k/10, rx_bytes = rx_packets·1000,
//	      tx_packets = t·k/25, tx_bytes = tx_packets·500, errs = drops = 0
//
// A guest with one vCPU running for a second thus reads 50 requests
// (200 KiB) from its first disk and receives 100 packets on its first NIC.
// vCPUs: the online ones share the guest's CPU time equally; each runs on
// a CPU of its hard affinity (as last pinned, else from the configuration,
// else all CPUs), the (domid + vCPU)-th modulo their number.
func (h *Host) Stats(ctx context.Context, ids []backend.DomID) ([]backend.GuestStats, error) {
	var want map[backend.DomID]bool
	if ids != nil {
		want = make(map[backend.DomID]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
	}
	var out []backend.GuestStats
	err := h.mutate(func(st *hostState) (bool, error) {
		now := h.opts.Now()
		if want == nil || want[backend.Dom0] {
			out = append(out, h.dom0Stats(st))
		}
		for _, g := range st.Guests {
			if want == nil || want[g.DomID] {
				out = append(out, h.guestStats(g, now))
			}
		}
		return false, nil
	})
	return out, err
}

func (h *Host) dom0Stats(st *hostState) backend.GuestStats {
	s := backend.GuestStats{GuestInfo: h.dom0Info(st)}
	for k := 0; k < h.opts.Host.CPUs; k++ {
		aff := h.affinity(st.Dom0Tuning, nil, k)
		cpu := k
		if !slices.Contains(aff, k) {
			cpu = h.pickCPU(aff, k)
		}
		s.VCPUs = append(s.VCPUs, backend.VCPUStats{
			ID: k, Online: true, State: backend.VCPURunning, CPU: cpu, Affinity: aff,
		})
	}
	return s
}

func (h *Host) guestStats(g *guest, now time.Time) backend.GuestStats {
	s := backend.GuestStats{GuestInfo: g.info(now)}
	s.VCPUs = h.vcpuStats(g, s.GuestInfo)
	if g.Config == nil {
		return s
	}
	t := g.cpuTime(now).Milliseconds()
	for i, d := range g.Config.Disks {
		s.Disks = append(s.Disks, diskCounters(d, t, int64(i+1)))
	}
	for i, n := range g.Config.NICs {
		s.NICs = append(s.NICs, nicCounters(g.DomID, i, n, t, int64(i+1)))
	}
	return s
}

// vcpuStats is each vCPU of g as libxl_list_vcpu would report it. A
// paused or shut-down guest's vCPUs neither run nor block.
func (h *Host) vcpuStats(g *guest, gi backend.GuestInfo) []backend.VCPUStats {
	state := backend.VCPUOffline
	switch gi.State {
	case backend.StateRunning:
		state = backend.VCPURunning
	case backend.StateBlocked:
		state = backend.VCPUBlocked
	}
	var hard [][]int
	if g.Config != nil {
		hard = g.Config.BInfo.VCPUHardAffinity
	}
	out := make([]backend.VCPUStats, 0, gi.VCPUsMax)
	for k := 0; k < gi.VCPUsMax; k++ {
		v := backend.VCPUStats{ID: k, State: backend.VCPUOffline, CPU: -1, Affinity: h.affinity(g.Tuning, hard, k)}
		if k < gi.VCPUsOnline {
			v.Online, v.State = true, state
			v.CPUTime = gi.CPUTime / time.Duration(gi.VCPUsOnline)
			v.CPU = h.pickCPU(v.Affinity, int(g.DomID)+k)
		}
		out = append(out, v)
	}
	return out
}

// pickCPU is the n-th (mod their number) of the host's CPUs in affinity,
// or -1 if affinity names none of them.
func (h *Host) pickCPU(affinity []int, n int) int {
	var usable []int
	for _, c := range affinity {
		if c >= 0 && c < h.opts.Host.CPUs {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		return -1
	}
	return usable[n%len(usable)]
}

func (h *Host) allCPUs() []int {
	cpus := make([]int, h.opts.Host.CPUs)
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

func diskCounters(d libxltypes.Disk, t, k int64) backend.DiskStats {
	rd, wr := t*k/20, t*k/50
	return backend.DiskStats{
		Vdev: d.Vdev, RdReq: rd, RdBytes: rd * 4096, WrReq: wr, WrBytes: wr * 8192, FlushReq: wr / 8,
	}
}

// nicCounters names the interface as libxl does (vifDOMID.DEVID) unless
// the configuration names it; a devid left to libxl is the NIC's place.
func nicCounters(domid backend.DomID, i int, n libxltypes.NIC, t, k int64) backend.NICStats {
	devid := n.DevID
	if devid < 0 {
		devid = i
	}
	ifname := n.Ifname
	if ifname == "" {
		ifname = vifName(domid, devid)
	}
	rx, tx := t*k/10, t*k/25
	return backend.NICStats{
		DevID: devid, Ifname: ifname,
		RxPackets: rx, RxBytes: rx * 1000, TxPackets: tx, TxBytes: tx * 500,
	}
}

func vifName(domid backend.DomID, devid int) string {
	return "vif" + strconv.Itoa(int(domid)) + "." + strconv.Itoa(devid)
}
