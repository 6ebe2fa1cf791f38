package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
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
	for _, g := range slices.Concat(st.Guests, st.Dying) { // the dying hold theirs
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
			BootID:     st.BootID, HWVirt: "vmx", HWCap: HostHWCap,
		}
		return false, nil
	})
	return hi, err
}

// NeedMemory implements backend.Backend: the guest's initial balloon target.
func (h *Host) NeedMemory(ctx context.Context, cfg *libxltypes.DomainConfig) (uint64, error) {
	s, err := shapeOf(cfg)
	return s.targetMemKiB, err
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

// Create implements backend.Backend: the guest gets its name, uuid and
// sizing from cfg, which it keeps.
func (h *Host) Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions) (backend.DomID, error) {
	return h.add(ctx, cfg, opts, nil)
}

// add makes a new guest of cfg (Create, Restore); restored, when set,
// gives it the state a save kept.
func (h *Host) add(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, restored *savedGuest) (backend.DomID, error) {
	shape, err := shapeOf(cfg)
	if err != nil {
		return 0, err
	}
	faults, err := ParseFaults(opts.Metadata)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	if err := sleep(ctx, faults.OpDelay); err != nil {
		return 0, err
	}
	name := cfg.CInfo.Name
	if faults.FailStart {
		return 0, fmt.Errorf("%w: domain %q: start fails (sim:fault start='fail')", backend.ErrFailed, name)
	}
	kept, err := keepConfig(cfg)
	if err != nil {
		return 0, err
	}
	for _, p := range cfg.PCIDevs {
		if err := h.claimPCI(p); err != nil {
			return 0, err
		}
	}
	var id backend.DomID
	err = h.mutate(func(st *hostState) (bool, error) {
		for _, g := range st.Guests {
			if g.UUID == shape.uuid || g.Name == name {
				return false, fmt.Errorf("%w: domain %q (%s) exists as domid %d", backend.ErrInvalid, g.Name, g.UUID, g.DomID)
			}
		}
		for _, p := range cfg.PCIDevs {
			if err := pciTaken(st, st.NextDomID, p); err != nil {
				return false, err
			}
		}
		if free := h.freeKiB(st); free < shape.targetMemKiB {
			return false, fmt.Errorf("%w: domain %q needs %d KiB, %d KiB free", backend.ErrNoMemory, name, shape.targetMemKiB, free)
		}
		now := h.opts.Now()
		id = st.NextDomID
		st.NextDomID++
		g := &guest{
			DomID: id, UUID: shape.uuid, Name: name, Marker: opts.Marker,
			MaxMemKiB: shape.maxMemKiB, TargetMemKiB: shape.targetMemKiB,
			VCPUsMax: shape.vcpusMax, VCPUsOnline: shape.vcpusOnline,
			Paused: opts.Paused, CreatedAt: now, Faults: faults, Config: kept,
			NoIOMMU: passthroughOf(cfg) == "disabled",
		}
		restored.applyTo(g)
		g.settle(now)
		st.Guests = append(st.Guests, g)
		h.ensureConsoled()
		return true, nil
	})
	return id, err
}

// guestShape is what the host takes from a guest's configuration.
type guestShape struct {
	uuid                    backend.UUID
	maxMemKiB, targetMemKiB uint64
	vcpusMax, vcpusOnline   int
}

// shapeOf reads cfg's identity and sizing with libxl's defaults: the
// memory target is the maximum unless set, and with no avail_vcpus every
// vCPU is online. What libxl would refuse is ErrInvalid.
func shapeOf(cfg *libxltypes.DomainConfig) (guestShape, error) {
	if cfg == nil {
		return guestShape{}, fmt.Errorf("%w: no domain configuration", backend.ErrInvalid)
	}
	b := cfg.BInfo
	s := guestShape{maxMemKiB: b.MaxMemKiB, targetMemKiB: b.TargetMemKiB, vcpusMax: b.MaxVCPUs, vcpusOnline: len(b.AvailVCPUs)}
	if s.targetMemKiB == 0 {
		s.targetMemKiB = s.maxMemKiB
	}
	if s.vcpusOnline == 0 {
		s.vcpusOnline = s.vcpusMax
	}
	var err error
	switch {
	case cfg.CInfo.Name == "":
		err = fmt.Errorf("domain has no name")
	case s.maxMemKiB == 0:
		err = fmt.Errorf("domain %q has no memory", cfg.CInfo.Name)
	case s.targetMemKiB > s.maxMemKiB:
		err = fmt.Errorf("domain %q has a memory target above its maximum", cfg.CInfo.Name)
	case s.vcpusMax < 1 || s.vcpusOnline > s.vcpusMax:
		err = fmt.Errorf("domain %q has %d of %d vCPUs online", cfg.CInfo.Name, s.vcpusOnline, s.vcpusMax)
	default:
		s.uuid, err = backend.ParseUUID(cfg.CInfo.UUID)
	}
	if err != nil {
		return guestShape{}, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	return s, nil
}

// keepConfig is the copy of cfg stored with the guest: its JSON read back,
// so that later changes to the caller's value do not reach the host.
func keepConfig(cfg *libxltypes.DomainConfig) (*libxltypes.DomainConfig, error) {
	js, err := cfg.JSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	kept := &libxltypes.DomainConfig{}
	if err := json.Unmarshal(js, kept); err != nil {
		return nil, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	return kept, nil
}

// onGuest runs fn on guest id (not Domain-0) after its "delay" fault.
func (h *Host) onGuest(ctx context.Context, id backend.DomID, fn func(st *hostState, g *guest, now time.Time) error) error {
	if id == backend.Dom0 {
		return fmt.Errorf("%w: operation not valid on Domain-0", backend.ErrInvalid)
	}
	if err := h.slow(ctx, id); err != nil {
		return err
	}
	return h.update(id, fn)
}

// update runs fn on guest id at once and saves the state if fn succeeds:
// the later steps of one operation, whose delay onGuest applied.
func (h *Host) update(id backend.DomID, fn func(st *hostState, g *guest, now time.Time) error) error {
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
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		st.destroy(g, now)
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

// InjectNMI implements backend.Backend: the console daemon prints the
// guest's report of it.
func (h *Host) InjectNMI(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		g.NMIs++
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
		for _, g := range st.Dying {
			gi := g.info(now)
			gi.State, gi.ShutdownReason = backend.StateDying, 0
			list = append(list, gi)
		}
		return false, nil
	})
	return list, err
}

// GuestConfig is the libxl configuration guest id was created from, as
// the host keeps it (what xl list -l shows on real Xen); nil for a guest
// of a host written before configurations were kept.
func (h *Host) GuestConfig(ctx context.Context, id backend.DomID) (*libxltypes.DomainConfig, error) {
	var cfg *libxltypes.DomainConfig
	err := h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err == nil {
			cfg = g.Config
		}
		return false, err
	})
	return cfg, err
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
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		st.destroy(g, now)
		return nil
	})
}
