package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/libxlconf"
)

// Dom0Name is Domain-0's name as Xen reports it.
const Dom0Name = "Domain-0"

func splitVersion(v string) (major, minor int, extra string, err error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, "", fmt.Errorf("%q is not major.minor[.micro]", v)
	}
	if major, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, "", fmt.Errorf("%q is not major.minor[.micro]", v)
	}
	if minor, err = strconv.Atoi(parts[1]); err != nil {
		return 0, 0, "", fmt.Errorf("%q is not major.minor[.micro]", v)
	}
	if len(parts) == 3 {
		extra = "." + parts[2]
	}
	return major, minor, extra, nil
}

func (h *Host) totalKiB() uint64 { return h.opts.Host.MemoryMiB * 1024 }

func (h *Host) freeKiB(st *hostState) uint64 {
	used := st.Dom0MemKiB
	for _, g := range st.Guests {
		used += g.TargetMemKiB
	}
	if used >= h.totalKiB() {
		return 0
	}
	return h.totalKiB() - used
}

// HostInfo implements backend.Backend.
func (h *Host) HostInfo(ctx context.Context) (backend.HostInfo, error) {
	var hi backend.HostInfo
	err := h.mutate(func(st *hostState) (bool, error) {
		major, minor, extra, _ := splitVersion(h.opts.Host.XenVersion)
		hi = backend.HostInfo{
			Arch: "x86_64", CPUs: h.opts.Host.CPUs, MaxCPUs: h.opts.Host.CPUs, MHz: h.opts.Host.CPUMHz,
			Nodes: 1, Sockets: 1, CoresPerSocket: h.opts.Host.CPUs, ThreadsPerCore: 1,
			TotalMemKiB: h.totalKiB(), FreeMemKiB: h.freeKiB(st), PageSizeKiB: 4,
			Dom0MaxMemKiB: h.totalKiB(), XenMajor: major, XenMinor: minor, XenExtra: extra,
			GuestTypes: []string{"xen-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_32p", "hvm-3.0-x86_64"},
			BootID:     st.BootID,
		}
		return false, nil
	})
	return hi, err
}

// NeedMemory implements backend.Backend: the guest's initial balloon target.
func (h *Host) NeedMemory(ctx context.Context, def *libvirtxml.Domain) (uint64, error) {
	return backend.ShapeOf(def).TargetMemKiB, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slow applies the guest's "delay" fault before an operation on it.
func (h *Host) slow(ctx context.Context, id backend.DomID) error {
	var d time.Duration
	h.mutate(func(st *hostState) (bool, error) {
		if g, err := st.find(id); err == nil {
			d = g.Faults.OpDelay
		}
		return false, nil
	})
	return sleep(ctx, d)
}

// Create implements backend.Backend.
func (h *Host) Create(ctx context.Context, def *libvirtxml.Domain, opts backend.CreateOptions) (backend.DomID, error) {
	faults, err := FaultsOf(def)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	uuid, err := backend.ParseUUID(def.UUID)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	if err := h.translate(def); err != nil {
		return 0, err
	}
	if err := sleep(ctx, faults.OpDelay); err != nil {
		return 0, err
	}
	if faults.FailStart {
		return 0, fmt.Errorf("%w: domain %q: start fails (sim:fault start='fail')", backend.ErrFailed, def.Name)
	}
	shape := backend.ShapeOf(def)
	if shape.MaxMemKiB == 0 {
		return 0, fmt.Errorf("%w: domain %q has no memory", backend.ErrInvalid, def.Name)
	}
	var id backend.DomID
	err = h.mutate(func(st *hostState) (bool, error) {
		for _, g := range st.Guests {
			if g.UUID == uuid || g.Name == def.Name {
				return false, fmt.Errorf("%w: domain %q (%s) exists as domid %d", backend.ErrInvalid, g.Name, g.UUID, g.DomID)
			}
		}
		if free := h.freeKiB(st); free < shape.TargetMemKiB {
			return false, fmt.Errorf("%w: domain %q needs %d KiB, %d KiB free", backend.ErrNoMemory, def.Name, shape.TargetMemKiB, free)
		}
		now := h.opts.Now()
		id = st.NextDomID
		st.NextDomID++
		g := &guest{
			DomID: id, UUID: uuid, Name: def.Name, Marker: opts.Marker,
			MaxMemKiB: shape.MaxMemKiB, TargetMemKiB: shape.TargetMemKiB,
			VCPUsMax: shape.VCPUsMax, VCPUsOnline: shape.VCPUsOnline,
			Paused: opts.Paused, CreatedAt: now, Faults: faults,
		}
		g.settle(now)
		st.Guests = append(st.Guests, g)
		return true, nil
	})
	return id, err
}

// onGuest runs fn on guest id (not Domain-0) after its "delay" fault.
func (h *Host) onGuest(ctx context.Context, id backend.DomID, fn func(st *hostState, g *guest, now time.Time) error) error {
	if id == backend.Dom0 {
		return fmt.Errorf("%w: operation not valid on Domain-0", backend.ErrInvalid)
	}
	if err := h.slow(ctx, id); err != nil {
		return err
	}
	return h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err != nil {
			return false, err
		}
		if err := fn(st, g, h.opts.Now()); err != nil {
			return false, err
		}
		return true, nil
	})
}

// Destroy implements backend.Backend.
func (h *Host) Destroy(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, _ time.Time) error {
		st.remove(id)
		h.forgetLocked(id)
		return nil
	})
}

// request asks the guest to shut down for reason after its delay.
func (h *Host) request(ctx context.Context, id backend.DomID, reason backend.ShutdownReason) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if g.Shutdown || g.Faults.IgnoreShutdown {
			return nil
		}
		delay := h.opts.ShutdownDelay
		if g.Faults.HasDelay {
			delay = g.Faults.ShutdownDelay
		}
		g.Request = &request{Reason: reason, Due: now.Add(delay)}
		g.advance(now)
		return nil
	})
}

// Shutdown implements backend.Backend.
func (h *Host) Shutdown(ctx context.Context, id backend.DomID, how backend.ShutdownMethod) error {
	return h.request(ctx, id, backend.ReasonPoweroff)
}

// Reboot implements backend.Backend.
func (h *Host) Reboot(ctx context.Context, id backend.DomID) error {
	return h.request(ctx, id, backend.ReasonReboot)
}

// Pause implements backend.Backend.
func (h *Host) Pause(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		g.Paused = true
		g.settle(now)
		return nil
	})
}

// Unpause implements backend.Backend.
func (h *Host) Unpause(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		g.Paused = false
		g.settle(now)
		g.advance(now)
		return nil
	})
}

// SetMemoryTarget implements backend.Backend; for Domain-0 it balloons.
func (h *Host) SetMemoryTarget(ctx context.Context, id backend.DomID, kib uint64) error {
	if id == backend.Dom0 {
		return h.mutate(func(st *hostState) (bool, error) {
			limit := st.Dom0MemKiB + h.freeKiB(st)
			if kib < Dom0MinMemKiB || kib > limit {
				return false, fmt.Errorf("%w: Domain-0 cannot reach %d KiB (range %d..%d)", backend.ErrFailed, kib, Dom0MinMemKiB, limit)
			}
			st.Dom0MemKiB = kib
			return true, nil
		})
	}
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if kib > g.MaxMemKiB {
			return fmt.Errorf("%w: target %d KiB above maximum %d KiB", backend.ErrInvalid, kib, g.MaxMemKiB)
		}
		if kib > g.TargetMemKiB && kib-g.TargetMemKiB > h.freeKiB(st) {
			return fmt.Errorf("%w: %d KiB more than free", backend.ErrNoMemory, kib-g.TargetMemKiB)
		}
		g.TargetMemKiB = kib
		return nil
	})
}

// SetMaxMemory implements backend.Backend.
func (h *Host) SetMaxMemory(ctx context.Context, id backend.DomID, kib uint64) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		g.MaxMemKiB = kib
		if g.TargetMemKiB > kib {
			g.TargetMemKiB = kib
		}
		return nil
	})
}

// SetVCPUsOnline implements backend.Backend.
func (h *Host) SetVCPUsOnline(ctx context.Context, id backend.DomID, n int) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if n < 1 || n > g.VCPUsMax {
			return fmt.Errorf("%w: %d vCPUs, maximum %d", backend.ErrInvalid, n, g.VCPUsMax)
		}
		g.settle(now)
		g.VCPUsOnline = n
		return nil
	})
}

func (h *Host) dom0Info(st *hostState) backend.GuestInfo {
	return backend.GuestInfo{
		DomID: backend.Dom0, Name: Dom0Name, State: backend.StateRunning,
		CurrentMemKiB: st.Dom0MemKiB, MaxMemKiB: h.totalKiB(),
		VCPUsOnline: h.opts.Host.CPUs, VCPUsMax: h.opts.Host.CPUs,
	}
}

// Guest implements backend.Backend.
func (h *Host) Guest(ctx context.Context, id backend.DomID) (backend.GuestInfo, error) {
	var gi backend.GuestInfo
	err := h.mutate(func(st *hostState) (bool, error) {
		if id == backend.Dom0 {
			gi = h.dom0Info(st)
			return false, nil
		}
		g, err := st.find(id)
		if err != nil {
			return false, err
		}
		gi = g.info(h.opts.Now())
		return false, nil
	})
	return gi, err
}

// Guests implements backend.Backend.
func (h *Host) Guests(ctx context.Context) ([]backend.GuestInfo, error) {
	var list []backend.GuestInfo
	err := h.mutate(func(st *hostState) (bool, error) {
		now := h.opts.Now()
		list = append(list, h.dom0Info(st))
		for _, g := range st.Guests {
			list = append(list, g.info(now))
		}
		return false, nil
	})
	return list, err
}

// GuestShutdown implements backend.GuestActions: the guest powers off,
// reboots or crashes by itself, now.
func (h *Host) GuestShutdown(ctx context.Context, id backend.DomID, reason backend.ShutdownReason) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if g.Shutdown {
			return fmt.Errorf("%w: domain %d is already shut down", backend.ErrInvalid, id)
		}
		g.shutDown(now, reason)
		return nil
	})
}

// Vanish removes a guest as an outside tool (xl destroy) would: every
// attached Host, this one included, reports its death.
func (h *Host) Vanish(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, _ time.Time) error {
		st.remove(id)
		return nil
	})
}

// translate runs the translation of def into libxl's configuration, which needs no
// Xen, so that a definition real Xen would refuse fails here the same way
// (libvirt's libxlBuildDomainConfig errors). The host is this simulated
// one: its CPUs, one NUMA node, VT-x, no libvirt networks; USB devices
// named by vendor and product are looked up on the real machine.
func (h *Host) translate(def *libvirtxml.Domain) error {
	_, err := libxlconf.BuildDomainConfig(def, libxlconf.Host{
		MaxCPUs: h.opts.Host.CPUs, NUMANodes: 1, HWVirt: "vmx",
		CheckEmulator: func(string) error { return nil },
	})
	return err
}
