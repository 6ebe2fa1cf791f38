package backend

import (
	"context"
	"fmt"
	"time"
)

// GuestStats is what statistics need of one guest: its dominfo, its
// vCPUs, and the counters of its disks and network interfaces, as
// libvirt's libxl driver reads them for virDomainGetVcpus,
// virDomainBlockStats and virDomainInterfaceStats. Backend.Stats reads
// many guests' at once.
type GuestStats struct {
	GuestInfo
	VCPUs []VCPUStats
	Disks []DiskStats
	NICs  []NICStats
}

// VCPUState is what a vCPU is doing, as libxlDomainGetVcpus tells it from
// libxl_vcpuinfo: running, else blocked, else offline.
type VCPUState int

// vCPU states, in libvirt's numbering (virVcpuState).
const (
	// VCPUOffline: neither running nor blocked. A vCPU taken offline is,
	// and so is one of a paused guest.
	VCPUOffline VCPUState = 0
	VCPURunning VCPUState = 1
	VCPUBlocked VCPUState = 2
)

func (s VCPUState) String() string {
	switch s {
	case VCPUOffline:
		return "offline"
	case VCPURunning:
		return "running"
	case VCPUBlocked:
		return "blocked"
	}
	return fmt.Sprintf("vcpustate(%d)", int(s))
}

// VCPUStats is one vCPU (libxl_vcpuinfo).
type VCPUStats struct {
	ID      int
	Online  bool
	State   VCPUState
	CPUTime time.Duration
	// CPU is the physical CPU the vCPU runs or last ran on; -1 if none.
	CPU int
	// Affinity is the vCPU's hard affinity: the physical CPUs it may run on.
	Affinity []int
}

// DiskStats is one virtual block device's counters, as blkback counts
// them (/sys/bus/xen-backend/devices/vbd-DOMID-DEVNO/statistics, where
// libxlDomainBlockStatsVBD reads), or, from QEMUDiskCounter, as the device
// model counts the disks it serves. Stats lists only the disks blkback
// serves (libxl's "phy" backend), the ones libvirt reads. A counter the
// backend cannot read, or that the device's server does not keep, is -1.
type DiskStats struct {
	Vdev     string // the guest's name for it: xvda, hda, sdb, ...
	RdReq    int64  // rd_req; QEMU's rd_operations
	RdBytes  int64  // rd_sect × 512: blkback counts sectors of 512 bytes
	WrReq    int64  // wr_req
	WrBytes  int64  // wr_sect × 512
	FlushReq int64  // f_req
	Errors   int64  // oo_req: times blkback ran out of request slots, libvirt's errs; QEMU has none
	// The time the operations took, in nanoseconds: QEMU's
	// rd_total_time_ns, wr_total_time_ns and flush_total_time_ns;
	// blkback keeps none.
	RdTimeNs, WrTimeNs, FlushTimeNs int64
}

// QEMUDiskCounter is the optional feature of the counters QEMU keeps of
// the disks a running guest's device model serves (libxl's qdisk backend:
// a qcow2 image, or driver name='qemu'), which blkback's do not cover and
// libvirt's libxl driver therefore refuses ("unsupported disk driver
// qemu"). QEMUDiskStats lists each disk the device model serves, in no
// particular order, and fails when the guest has no device model that
// answers.
type QEMUDiskCounter interface {
	QEMUDiskStats(ctx context.Context, id DomID) ([]DiskStats, error)
}

// NICCounters are a network interface's counters from the guest's point
// of view. They are read on the backend's interface in dom0, whose
// receive counters are what the guest sent: libxlDomainInterfaceStats
// swaps them. A counter that cannot be read is -1.
type NICCounters struct {
	RxBytes, RxPackets, RxErrs, RxDrop int64
	TxBytes, TxPackets, TxErrs, TxDrop int64
}

// NICStats is one network interface: its netback interface
// (vifDOMID.DEVID unless the configuration names it) and, for an HVM
// guest's emulated NIC (nictype vif_ioemu), the device model's tap beside
// it, which libvirt names the interface by (IFNAME-emu) and reads.
type NICStats struct {
	DevID  int
	Ifname string
	NICCounters
	// Emulated is the emulated NIC's tap; nil for a PV-only NIC.
	Emulated *EmulatedNIC
}

// EmulatedNIC is the tap of an emulated NIC and its counters.
type EmulatedNIC struct {
	Ifname string
	NICCounters
}

// Counters returns the counters of the interface named ifname, the
// netback interface or the emulated NIC's tap.
func (n NICStats) Counters(ifname string) (NICCounters, bool) {
	switch {
	case ifname == n.Ifname:
		return n.NICCounters, true
	case n.Emulated != nil && ifname == n.Emulated.Ifname:
		return n.Emulated.NICCounters, true
	}
	return NICCounters{}, false
}
