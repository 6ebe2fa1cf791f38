package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
	"virtxend/internal/store"
)

// stateVersion is the layout version of host.json; an unknown version is
// refused rather than misread.
const stateVersion = 1

// hostState is the whole simulated hypervisor, as stored in host.json.
// Times are absolute so that what depends on time (CPU time, delayed
// shutdowns, crash-after) keeps progressing while no daemon runs.
type hostState struct {
	Version int `json:"version"`
	// BootID names this boot of the simulated host.
	BootID string `json:"boot_id"`
	// KernelBootID is the real kernel's boot id when the host "booted": a
	// different one means the machine rebooted, so every guest is gone.
	KernelBootID string        `json:"kernel_boot_id"`
	NextDomID    backend.DomID `json:"next_domid"`
	Dom0MemKiB   uint64        `json:"dom0_mem_kib"`
	Guests       []*guest      `json:"guests"`
	// Dom0Tuning is Domain-0's vCPU affinity and scheduler parameters,
	// once changed.
	Dom0Tuning tuning `json:"dom0_tuning,omitzero"`
	// PCI is the bindings of the PCI devices whose driver or
	// driver_override the daemon changed, by address (pci.go).
	PCI map[string]pciBinding `json:"pci,omitempty"`
	// Dying are the guests destroyed with a "dying" fault that Xen would
	// still list: they hold their memory until their DyingUntil, and are
	// gone for everything but the list and the free memory.
	Dying []*guest `json:"dying,omitempty"`
}

// guest is one simulated domain.
type guest struct {
	DomID        backend.DomID `json:"domid"`
	UUID         backend.UUID  `json:"uuid"`
	Name         string        `json:"name"`
	Marker       string        `json:"marker,omitempty"`
	MaxMemKiB    uint64        `json:"max_mem_kib"`
	TargetMemKiB uint64        `json:"target_mem_kib"`
	VCPUsMax     int           `json:"vcpus_max"`
	VCPUsOnline  int           `json:"vcpus_online"`
	Paused       bool          `json:"paused,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	// CPUTime is the CPU time accrued before RunningSince; while the guest
	// runs each online vCPU accrues busyTime from RunningSince (load.go).
	CPUTime      time.Duration `json:"cpu_time"`
	RunningSince time.Time     `json:"running_since,omitzero"`
	// Shutdown is set once the guest has shut itself down.
	Shutdown   bool                   `json:"shutdown,omitempty"`
	Reason     backend.ShutdownReason `json:"reason,omitempty"`
	ShutdownAt time.Time              `json:"shutdown_at,omitzero"`
	// Request is a shutdown or reboot the guest was asked for and has
	// not acted on yet; it does at Due if running then.
	Request *request `json:"request,omitempty"`
	Faults  Faults   `json:"faults,omitzero"`
	// Config is the libxl configuration the guest was created from, as
	// real Xen would have received it. Hosts written before it was kept
	// have none (nil); their guests still run, with no devices to count.
	Config *libxltypes.DomainConfig `json:"config,omitempty"`
	// Tuning is what was changed of the guest's vCPU affinity and
	// scheduler parameters since it was created (sched.go).
	Tuning tuning `json:"tuning,omitzero"`
	// NoIOMMU: the guest was created without an IOMMU context, so it can
	// be given no PCI device (pci.go).
	NoIOMMU bool `json:"no_iommu,omitempty"`
	// NMIs is how many NMIs the guest was sent; its console reports each.
	NMIs int `json:"nmis,omitempty"`
	// Throttles are the I/O limits of the disks QEMU serves, by vdev, as
	// the device model keeps them (throttle.go).
	Throttles map[string]backend.DiskThrottle `json:"throttles,omitempty"`
	// Jobs are the disks' block jobs, by vdev (blockjobs.go).
	Jobs map[string]*diskJob `json:"jobs,omitempty"`
	// DyingUntil is when a guest of hostState.Dying goes.
	DyingUntil time.Time `json:"dying_until,omitzero"`
}

type request struct {
	Reason backend.ShutdownReason `json:"reason"`
	Due    time.Time              `json:"due"`
}

func (g *guest) cpuTime(now time.Time) time.Duration {
	t := g.CPUTime
	if !g.RunningSince.IsZero() && now.After(g.RunningSince) {
		t += busyTime(g.DomID, g.RunningSince, now) * time.Duration(g.VCPUsOnline)
	}
	return t
}

// settle folds the running time up to now into CPUTime and restarts the
// clock (or stops it when the guest no longer runs).
func (g *guest) settle(now time.Time) {
	g.CPUTime = g.cpuTime(now)
	g.RunningSince = time.Time{}
	if !g.Paused && !g.Shutdown {
		g.RunningSince = now
	}
}

// shutDown makes the guest shut itself down at t for reason.
func (g *guest) shutDown(t time.Time, reason backend.ShutdownReason) {
	g.CPUTime = g.cpuTime(t)
	g.RunningSince = time.Time{}
	g.Shutdown, g.Reason, g.ShutdownAt, g.Request = true, reason, t, nil
}

// advance applies everything due by now; it reports whether state changed.
func (g *guest) advance(now time.Time) bool {
	if g.Shutdown {
		return false
	}
	type due struct {
		at     time.Time
		reason backend.ShutdownReason
	}
	var next *due
	consider := func(after time.Duration, reason backend.ShutdownReason) {
		if after <= 0 {
			return
		}
		at := g.CreatedAt.Add(after)
		if !at.After(now) && (next == nil || at.Before(next.at)) {
			next = &due{at, reason}
		}
	}
	consider(g.Faults.CrashAfter, backend.ReasonCrash)
	consider(g.Faults.PoweroffAfter, backend.ReasonPoweroff)
	consider(g.Faults.RebootAfter, backend.ReasonReboot)
	// A paused guest cannot act on a request; it does once unpaused.
	if r := g.Request; r != nil && !g.Paused && !r.Due.After(now) {
		at := r.Due
		if !g.RunningSince.IsZero() && g.RunningSince.After(at) {
			at = g.RunningSince
		}
		if next == nil || at.Before(next.at) {
			next = &due{at, r.Reason}
		}
	}
	if next == nil {
		return false
	}
	g.shutDown(next.at, next.reason)
	return true
}

func (g *guest) info(now time.Time) backend.GuestInfo {
	gi := backend.GuestInfo{
		DomID: g.DomID, UUID: g.UUID, Name: g.Name, CPUTime: g.cpuTime(now),
		CurrentMemKiB: g.TargetMemKiB, MaxMemKiB: g.MaxMemKiB,
		VCPUsOnline: g.VCPUsOnline, VCPUsMax: g.VCPUsMax, Marker: g.Marker,
	}
	switch {
	case g.Shutdown:
		gi.State, gi.ShutdownReason = backend.StateShutdown, g.Reason
	case g.Paused:
		gi.State = backend.StatePaused
	case g.Faults.Idle:
		gi.State = backend.StateBlocked
	default:
		gi.State = backend.StateRunning
	}
	return gi
}

func (st *hostState) find(id backend.DomID) (*guest, error) {
	for _, g := range st.Guests {
		if g.DomID == id {
			return g, nil
		}
	}
	return nil, fmt.Errorf("domain %d: %w", id, backend.ErrNoGuest)
}

// destroy takes guest g off the host. With a "dying" fault it stays among
// the dying for the fault's time, stopped, as Xen lists a domain whose
// pages are still being released.
func (st *hostState) destroy(g *guest, now time.Time) {
	st.Guests = slices.DeleteFunc(st.Guests, func(o *guest) bool { return o == g })
	if g.Faults.Dying > 0 {
		g.CPUTime = g.cpuTime(now)
		g.RunningSince, g.Request = time.Time{}, nil
		g.DyingUntil = now.Add(g.Faults.Dying)
		st.Dying = append(st.Dying, g)
	}
}

// bury removes the dying guests whose time is up; it reports whether it
// removed any.
func (st *hostState) bury(now time.Time) bool {
	n := len(st.Dying)
	st.Dying = slices.DeleteFunc(st.Dying, func(g *guest) bool { return !now.Before(g.DyingUntil) })
	return len(st.Dying) != n
}

// loadState reads host.json; a missing file yields nil.
func loadState(path string) (*hostState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := &hostState{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: state version %d, want %d", path, st.Version, stateVersion)
	}
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// check refuses a state no simulated host could have written: a damaged
// or hand-edited file is reported rather than acted on.
func (st *hostState) check() error {
	seen := make(map[backend.DomID]bool, len(st.Guests)+len(st.Dying))
	for i, g := range slices.Concat(st.Guests, st.Dying) {
		switch {
		case g == nil:
			return fmt.Errorf("guest %d is null", i)
		case g.DomID == backend.Dom0 || g.DomID >= st.NextDomID:
			return fmt.Errorf("guest %q has domid %d, outside 1..%d", g.Name, g.DomID, st.NextDomID-1)
		case seen[g.DomID]:
			return fmt.Errorf("domid %d appears twice", g.DomID)
		case g.VCPUsMax < 1 || g.VCPUsOnline < 0 || g.VCPUsOnline > g.VCPUsMax:
			return fmt.Errorf("guest %q has %d of %d vcpus online", g.Name, g.VCPUsOnline, g.VCPUsMax)
		case g.TargetMemKiB > g.MaxMemKiB:
			return fmt.Errorf("guest %q has a memory target above its maximum", g.Name)
		case !g.Faults.inRange():
			return fmt.Errorf("guest %q has a fault duration out of range", g.Name)
		case !g.Tuning.valid(g.VCPUsMax):
			return fmt.Errorf("guest %q has vCPU affinity or scheduler parameters out of range", g.Name)
		case !g.configMatches():
			return fmt.Errorf("guest %q has the configuration of %q (%s)", g.Name, g.Config.CInfo.Name, g.Config.CInfo.UUID)
		}
		seen[g.DomID] = true
	}
	if !st.Dom0Tuning.valid(maxHostCPUs) {
		return fmt.Errorf("Domain-0 has vCPU affinity or scheduler parameters out of range")
	}
	return nil
}

// configMatches: the stored configuration, if any, is the guest's own.
func (g *guest) configMatches() bool {
	if g.Config == nil {
		return true
	}
	u, err := backend.ParseUUID(g.Config.CInfo.UUID)
	return err == nil && u == g.UUID && g.Config.CInfo.Name == g.Name
}

func saveState(path string, st *hostState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(path, append(b, '\n'), 0o600)
}
