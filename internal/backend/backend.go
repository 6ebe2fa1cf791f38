// Package backend is the interface between the Xen driver and a hypervisor:
// the simulated host (backend/sim) and real Xen through libxl
// (backend/libxl). Both implement Backend and pass the conformance suite in
// backend/backendtest, so the driver's lifecycle logic is exercised for
// real in simulation.
//
// A guest crosses the seam as libxl's domain configuration
// (libxltypes.DomainConfig), which the driver translates from the domain
// XML once (internal/libxlconf): backends never see libvirt's XML, so a
// definition libxl cannot take is refused before any backend is called, and
// the simulated host runs exactly what real Xen would receive.
//
// The interface mirrors what libvirt's libxl driver asks of libxl: physinfo,
// domain create/destroy/pause/unpause, shutdown and reboot requests that the
// guest acts on later, memory and vCPU changes, domain info, a per-guest
// marker (libxl "userdata") so that after a daemon restart the driver
// recognises exactly the guests it started, and a stream of shutdown/death
// events. Features only some backends have are small extra interfaces.
package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"virtxend/internal/libxltypes"
	"virtxend/internal/virstring"
)

// DomID is a Xen domain id. Domain-0 is 0; guests get increasing ids that
// the hypervisor does not reuse until the host reboots.
type DomID uint32

// Dom0 is Domain-0's id.
const Dom0 DomID = 0

// UUID is a domain's 16-byte uuid.
type UUID [16]byte

// String formats u as libvirt does: 8-4-4-4-12 lowercase hex.
func (u UUID) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// ParseUUID is libvirt's virUUIDParse (virstring.ParseUUID): 32 hex
// digits in pairs, '-' or ' ' between pairs, blanks around.
func ParseUUID(s string) (UUID, error) {
	u, ok := virstring.ParseUUID(s)
	if !ok {
		return UUID{}, fmt.Errorf("malformed uuid %q", s)
	}
	return u, nil
}

// State is what the hypervisor reports about a guest (Xen's dominfo flags).
type State int

// Guest states. Shutdown means the guest has shut itself down (for the
// reason in GuestInfo.ShutdownReason) and waits for the toolstack to destroy
// or restart it; a crashed guest is Shutdown with reason Crash, as in Xen.
const (
	StateRunning State = iota
	StateBlocked
	StatePaused
	StateShutdown
	StateDying
)

func (s State) String() string {
	switch s {
	case StateRunning:
		return "running"
	case StateBlocked:
		return "blocked"
	case StatePaused:
		return "paused"
	case StateShutdown:
		return "shutdown"
	case StateDying:
		return "dying"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ShutdownReason is why a guest shut down (libxl_shutdown_reason).
type ShutdownReason int

// Shutdown reasons, in libxl's numbering.
const (
	ReasonPoweroff  ShutdownReason = 0
	ReasonReboot    ShutdownReason = 1
	ReasonSuspend   ShutdownReason = 2
	ReasonCrash     ShutdownReason = 3
	ReasonWatchdog  ShutdownReason = 4
	ReasonSoftReset ShutdownReason = 5
)

func (r ShutdownReason) String() string {
	switch r {
	case ReasonPoweroff:
		return "poweroff"
	case ReasonReboot:
		return "reboot"
	case ReasonSuspend:
		return "suspend"
	case ReasonCrash:
		return "crash"
	case ReasonWatchdog:
		return "watchdog"
	case ReasonSoftReset:
		return "soft_reset"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// HostInfo is the host as the hypervisor reports it (libxl physinfo and
// version info).
type HostInfo struct {
	Arch           string // "x86_64"
	CPUs           int    // online physical CPUs (nr_cpus)
	MaxCPUs        int    // libxl_get_max_cpus: most vCPUs a guest may have
	MHz            int
	Nodes          int
	Sockets        int
	CoresPerSocket int
	ThreadsPerCore int
	TotalMemKiB    uint64
	FreeMemKiB     uint64
	PageSizeKiB    uint64
	// Dom0MaxMemKiB is Domain-0's maximum (dom0_mem=max: or all RAM).
	Dom0MaxMemKiB uint64
	XenMajor      int
	XenMinor      int
	XenExtra      string // e.g. ".0"
	// GuestTypes are Xen's capability strings, e.g. "xen-3.0-x86_64",
	// "hvm-3.0-x86_32p"; an empty list means PV only on Arch.
	GuestTypes []string
	// BootID changes whenever the host (hypervisor) boots; the driver uses
	// it to run autostart once per boot.
	BootID string
	// HWVirt is the host CPU's hardware virtualisation, "vmx" (Intel) or
	// "svm" (AMD), or "" when HVM guests cannot run: the translation gives
	// nested HVM only where the host has it.
	HWVirt string
	// HWCap is physinfo's hw_cap (libxl_hwcap): Xen's host CPU featureset
	// words in Xen 4.7's layout (CPUID 1.EDX, 1.ECX, 80000001.EDX,
	// 80000001.ECX, D:1.EAX, 7:0.EBX, 7:0.ECX, 80000007.EDX), from which
	// libvirt names the host CPU's model. All zero on hosts without CPUID.
	HWCap [8]uint32
	// NUMA is the host's NUMA nodes (libxl_get_numainfo and
	// libxl_get_cpu_topology); nil when the backend does not report them,
	// taken then as one node with all the memory and every CPU.
	NUMA []NUMANode
}

// NUMANode is one NUMA node of the host.
type NUMANode struct {
	ID     int
	MemKiB uint64
	// Distances to every node, by node id; nil when unknown.
	Distances []int
	CPUs      []HostCPU
}

// HostCPU is one physical CPU of a NUMA node.
type HostCPU struct {
	ID, Socket, Core int
}

// XenVersion is "major.minor" plus the extra string, e.g. "4.17.0".
func (h HostInfo) XenVersion() string {
	return fmt.Sprintf("%d.%d%s", h.XenMajor, h.XenMinor, h.XenExtra)
}

// GuestInfo is one domain as the hypervisor sees it (libxl_dominfo).
type GuestInfo struct {
	DomID          DomID
	UUID           UUID
	Name           string
	State          State
	ShutdownReason ShutdownReason // meaningful when State == StateShutdown
	CPUTime        time.Duration
	CurrentMemKiB  uint64
	MaxMemKiB      uint64
	VCPUsOnline    int
	VCPUsMax       int
	// Marker is what CreateOptions.Marker stored ("" when the guest was not
	// created through this interface, e.g. by xl), or LibvirtMarker.
	Marker string
}

// LibvirtMarker is the Marker of a guest that libvirt's own Xen driver
// started (it stores the guest's XML with it as libxl userdata
// "libvirt-xml"), which a daemon taking over from libvirt's reconnects.
const LibvirtMarker = "libvirt-xml"

// CreateOptions tune Create.
type CreateOptions struct {
	// Paused leaves the new guest paused; the caller unpauses it once its
	// bookkeeping is done (libvirt creates paused and then unpauses).
	Paused bool
	// Marker is stored with the guest (libxl userdata) and returned in
	// GuestInfo so a restarted driver finds the guests it started.
	Marker string
	// Metadata is the inner XML of the definition's <metadata>, for a
	// backend that reads settings of its own there (the simulated host's
	// faults); libxl's config has no place for it and real Xen ignores it.
	Metadata string
}

// ShutdownMethod chooses how to ask a guest to shut down.
type ShutdownMethod int

// Shutdown methods, as virDomainShutdownFlags offers them.
const (
	ShutdownParavirt ShutdownMethod = iota // PV control node (libxl_domain_shutdown)
	ShutdownACPI                           // ACPI power button (libxl_send_trigger)
)

// EventKind says what happened to a guest.
type EventKind int

// Event kinds, as libxl reports them.
const (
	// EventShutdown: the guest shut down (Reason says why) and awaits
	// destroy. Delivered again after a backend is reopened while the guest
	// is still in that state, so a restarted driver handles it.
	EventShutdown EventKind = iota
	// EventDeath: the guest vanished without this backend destroying it.
	EventDeath
)

// Event is a guest event from the hypervisor.
type Event struct {
	Kind   EventKind
	DomID  DomID
	UUID   UUID
	Reason ShutdownReason
}

// Backend is a hypervisor. Methods are safe for concurrent use. Errors about
// a guest that does not exist wrap ErrNoGuest.
type Backend interface {
	// Capabilities says which optional features the backend has.
	Capabilities() Capabilities
	// HostInfo reports the host.
	HostInfo(ctx context.Context) (HostInfo, error)
	// NeedMemory is how much free host memory starting a guest of cfg
	// takes (libxl_domain_need_memory).
	NeedMemory(ctx context.Context, cfg *libxltypes.DomainConfig) (uint64, error)
	// Create builds and starts a guest from cfg as given (graphics ports
	// included: backends never choose them); it returns its new id. A
	// guest that does not fit fails and leaves no guest behind.
	Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts CreateOptions) (DomID, error)
	// Destroy kills a guest at once; no EventDeath follows.
	Destroy(ctx context.Context, id DomID) error
	// Shutdown asks the guest to power off; it returns before the guest
	// acts. The guest's EventShutdown follows, or never if it ignores it.
	Shutdown(ctx context.Context, id DomID, how ShutdownMethod) error
	// Reboot asks the guest to reboot: it later shuts down with ReasonReboot.
	Reboot(ctx context.Context, id DomID) error
	Pause(ctx context.Context, id DomID) error
	Unpause(ctx context.Context, id DomID) error
	// InjectNMI sends the guest's first vCPU a non-maskable interrupt
	// (libxl_send_trigger's NMI), which a Linux guest reports on its
	// console and a crash kernel can be set to act on.
	InjectNMI(ctx context.Context, id DomID) error
	// SetMemoryTarget sets the balloon target. For Domain-0 a target it
	// cannot reach fails.
	SetMemoryTarget(ctx context.Context, id DomID, kib uint64) error
	// SetMaxMemory sets the most memory the guest may balloon up to.
	SetMaxMemory(ctx context.Context, id DomID, kib uint64) error
	// SetVCPUsOnline brings vCPUs 0..n-1 online and the rest offline.
	SetVCPUsOnline(ctx context.Context, id DomID, n int) error
	// Guest reports one domain, Domain-0 included.
	Guest(ctx context.Context, id DomID) (GuestInfo, error)
	// Guests reports every domain, Domain-0 first, then by id.
	Guests(ctx context.Context) ([]GuestInfo, error)
	// Stats reads what statistics need of the guests ids (nil: every
	// domain, Domain-0 included) in one read of the hypervisor, so that
	// bulk statistics over many guests cost one call, not one per guest.
	// The result is in Guests' order; ids that do not exist are left out.
	Stats(ctx context.Context, ids []DomID) ([]GuestStats, error)
	// Events delivers guest events until Close. The channel never blocks
	// the backend: events queue until read.
	Events() <-chan Event
	// Close releases the backend; guests keep running.
	Close() error
}

// Capabilities lists optional features.
type Capabilities struct {
	// Persistent: guests outlive the process that created them (always
	// true for Xen; a backend for unit tests could say false).
	Persistent bool
	// ACPIShutdown: ShutdownACPI is supported.
	ACPIShutdown bool
	// GuestInitiated: the backend can be told to make a guest shut down,
	// reboot or crash by itself (see GuestActions).
	GuestInitiated bool
	// LocalDeviceModels: the guests' device models and display servers
	// run on this machine (real Xen's dom0), so the driver checks an
	// <emulator> path here and probes a graphics port with bind() before
	// handing it out, as libvirt's virPortAllocator does. The simulated
	// host's guests have none, so neither is done for it.
	LocalDeviceModels bool
}

// FlaskResolver is the optional feature of resolving a static security
// label to a FLASK sid (libxl_flask_context_to_sid). Without it, labels
// are left unresolved with a warning, as libvirt does when it fails.
type FlaskResolver interface {
	FlaskSID(label string) (uint32, error)
}

// GuestActions is the optional feature of triggering what a guest would do
// on its own: power off, reboot, crash. The simulator has it; real Xen
// does not (the guest decides).
type GuestActions interface {
	GuestShutdown(ctx context.Context, id DomID, reason ShutdownReason) error
}

// CoreDumper is the optional feature of dumping a guest's memory to a file
// as an ELF core (libxl_domain_core_dump), used by virsh dump and by
// on_crash='coredump-*'. progress may be nil.
type CoreDumper interface {
	CoreDump(ctx context.Context, id DomID, path string, progress Progress) error
}

// Screenshotter is the optional feature of a picture of a guest's display
// (its device model's screendump): the first screen, written to path, a
// file the caller made. It returns the picture's MIME type: image/png, or
// image/x-portable-pixmap from a device model that cannot write PNG.
type Screenshotter interface {
	Screenshot(ctx context.Context, id DomID, path string) (mime string, err error)
}

// KeySender is the optional feature of key presses on a guest's keyboard
// (its device model's): keys are QEMU's key numbers (qnum), pressed in
// order, held holdMs milliseconds (0: the device model's default), then
// released in reverse.
type KeySender interface {
	SendKeys(ctx context.Context, id DomID, keys []uint32, holdMs uint32) error
}

// DiskResizer is the optional feature of a running guest's disk taking a
// new size, which its frontend then reports to the guest: disk vdev, whose
// image is path (a file, or a block device), to bytes.
type DiskResizer interface {
	ResizeDisk(ctx context.Context, id DomID, vdev, path string, bytes uint64) error
}

// DiskThrottle is the limits QEMU's block layer puts on a disk's I/O
// (block_set_io_throttle): bytes and operations a second, in total or for
// reads and writes; the bursts above them (Max) and how many seconds each
// may last (MaxLength); the size one operation is counted in; and the group
// of disks that share the limits ("": a group of the disk's own). 0 is no
// limit. The fields are libvirt's virDomainBlockIoTuneInfo, in libvirtxml's
// order, so that its DomainDiskIOTune converts to this.
type DiskThrottle struct {
	TotalBytesSec, ReadBytesSec, WriteBytesSec                            uint64
	TotalIopsSec, ReadIopsSec, WriteIopsSec                               uint64
	TotalBytesSecMax, ReadBytesSecMax, WriteBytesSecMax                   uint64
	TotalIopsSecMax, ReadIopsSecMax, WriteIopsSecMax                      uint64
	TotalBytesSecMaxLength, ReadBytesSecMaxLength, WriteBytesSecMaxLength uint64
	TotalIopsSecMaxLength, ReadIopsSecMaxLength, WriteIopsSecMaxLength    uint64
	SizeIopsSec                                                           uint64
	GroupName                                                             string
}

// DiskThrottler is the optional feature of limiting a running guest's disk
// I/O (disk vdev). Xen has it only for a disk QEMU serves (libxl's qdisk
// backend); one blkback serves is ErrUnsupported.
type DiskThrottler interface {
	// DiskThrottle reads the disk's limits as QEMU applies them.
	DiskThrottle(ctx context.Context, id DomID, vdev string) (DiskThrottle, error)
	// SetDiskThrottle replaces them, all at once.
	SetDiskThrottle(ctx context.Context, id DomID, vdev string, t DiskThrottle) error
}

// NICRateSetter is the optional feature of a running guest's NIC taking a
// new limit on what the guest sends (Xen's netback credit): bytes per
// interval of intervalUs microseconds; bytes 0 lifts the limit. The NIC is
// the one of MAC address mac.
type NICRateSetter interface {
	SetNICRate(ctx context.Context, id DomID, mac string, bytes uint64, intervalUs uint32) error
}

// ConsoleTTYs is the optional feature of guest consoles on host ptys
// (libxl_console_get_tty): the pty of console or serial port number port.
// It may fail or be empty until the console daemon has set it up.
type ConsoleTTYs interface {
	ConsoleTTY(ctx context.Context, id DomID, port int, serial bool) (string, error)
}

// ConsoleServers is the optional feature of a console daemon whose
// restart moves every guest's console to a new pty (xenconsoled):
// ConsoleServer names the one running now, a name that changes when it
// restarts, so that the driver reads the ptys again only then. It fails
// when none runs.
type ConsoleServers interface {
	ConsoleServer(ctx context.Context) (string, error)
}

// Errors every backend reports (wrapped with detail).
var (
	ErrNoGuest  = errors.New("no such domain")
	ErrNoMemory = errors.New("not enough free memory")
	ErrInvalid  = errors.New("invalid request")
	ErrFailed   = errors.New("operation failed")
	// ErrUnsupported: the host lacks the feature altogether (a simulated
	// host with no console daemon), so asking again will not help.
	ErrUnsupported = errors.New("not supported by this host")
)
