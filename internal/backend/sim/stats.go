package sim

import (
	"context"
	"fmt"
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
// deterministic functions of the guest's CPU time, which grows while the
// guest runs (with its load, load.go) and stands still while it is paused
// or shut down, and of the device's place k (1 for the first disk or NIC,
// 2 for the second, ...). With b(P) the bursty activity over a period of
// P of CPU time (load.go: in milliseconds of CPU time, rising at 0.2 to
// 2.2 per millisecond):
//
//	disk: rd_req = b(20 s)·k/20, rd_bytes = rd_req·4096,
//	      wr_req = b(33 s)·k/50, wr_bytes = wr_req·8192,
//	      flush_req = wr_req/8, errors = 0
//	NIC:  rx_packets = b(9 s)·k/10, rx_bytes = rx_packets·1000,
//	      tx_packets = b(13 s)·k/25, tx_bytes = tx_packets·500,
//	      errs = drops = 0
//
// A guest using one vCPU fully for a second thus reads on average 60
// requests (240 KiB) from its first disk and receives 120 packets on its
// first NIC. As on real Xen, Stats counts the disks blkback serves
// (libxl's phy backend, which libxl picks for a raw image when the
// configuration names none) and QEMUDiskStats the ones the device model
// does (qemuCounters); an emulated NIC (an HVM guest's, nictype
// vif_ioemu) carries the guest's traffic on its tap, IFNAME-emu, and its
// netback interface counts nothing.
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
	t := g.cpuTime(now)
	for i, d := range g.Config.Disks {
		if blkback(d) {
			s.Disks = append(s.Disks, diskCounters(d, t, int64(i+1)))
		}
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

// blkback reports whether libxl serves d with blkback: its phy backend,
// chosen, or picked for a raw image when none is chosen (as
// libxl__device_disk_set_backend tries phy first).
func blkback(d libxltypes.Disk) bool {
	switch d.Backend {
	case "phy":
		return true
	case "":
		return d.PdevPath != "" && (d.Format == "" || d.Format == "raw")
	}
	return false
}

// diskCounters are blkback's counters of disk d, the k-th.
func diskCounters(d libxltypes.Disk, t time.Duration, k int64) backend.DiskStats {
	rd := int64(bursty(t, 20*time.Second)) * k / 20
	wr := int64(bursty(t, 33*time.Second)) * k / 50
	return backend.DiskStats{
		Vdev: d.Vdev, RdReq: rd, RdBytes: rd * 4096, WrReq: wr, WrBytes: wr * 8192, FlushReq: wr / 8,
		RdTimeNs: -1, WrTimeNs: -1, FlushTimeNs: -1,
	}
}

// qemuCounters are the device model's counters of disk d, the k-th: the
// same traffic, with QEMU's times (a read 200 µs, a write 500 µs, a flush
// 2 ms) and no errors count.
func qemuCounters(d libxltypes.Disk, t time.Duration, k int64) backend.DiskStats {
	s := diskCounters(d, t, k)
	s.Errors = -1
	s.RdTimeNs, s.WrTimeNs, s.FlushTimeNs = s.RdReq*200_000, s.WrReq*500_000, s.FlushReq*2_000_000
	return s
}

// QEMUDiskStats implements backend.QEMUDiskCounter: the disks of guest id
// that QEMU serves (servedByQEMU) and have an image, with qemuCounters,
// counted in the order of the guest's disks as Stats counts blkback's.
func (h *Host) QEMUDiskStats(ctx context.Context, id backend.DomID) ([]backend.DiskStats, error) {
	if id == backend.Dom0 {
		return nil, fmt.Errorf("%w: Domain-0 has no device model", backend.ErrInvalid)
	}
	var out []backend.DiskStats
	err := h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err != nil {
			return false, err
		}
		if g.Config == nil {
			return false, nil
		}
		t := g.cpuTime(h.opts.Now())
		for i, d := range g.Config.Disks {
			if servedByQEMU(d) && d.PdevPath != "" {
				out = append(out, qemuCounters(d, t, int64(i+1)))
			}
		}
		return false, nil
	})
	return out, err
}

// nicCounters names the interface as libxl does (vifDOMID.DEVID) unless
// the configuration names it; a devid left to libxl is the NIC's place.
// An emulated NIC's traffic goes through its tap.
func nicCounters(domid backend.DomID, i int, n libxltypes.NIC, t time.Duration, k int64) backend.NICStats {
	devid := n.DevID
	if devid < 0 {
		devid = i
	}
	ifname := n.Ifname
	if ifname == "" {
		ifname = vifName(domid, devid)
	}
	rx := int64(bursty(t, 9*time.Second)) * k / 10
	tx := int64(bursty(t, 13*time.Second)) * k / 25
	traffic := backend.NICCounters{RxPackets: rx, RxBytes: rx * 1000, TxPackets: tx, TxBytes: tx * 500}
	s := backend.NICStats{DevID: devid, Ifname: ifname, NICCounters: traffic}
	if n.NICType == "vif_ioemu" {
		s.NICCounters = backend.NICCounters{}
		s.Emulated = &backend.EmulatedNIC{Ifname: ifname + "-emu", NICCounters: traffic}
	}
	return s
}

func vifName(domid backend.DomID, devid int) string {
	return "vif" + strconv.Itoa(int(domid)) + "." + strconv.Itoa(devid)
}
