// Command simxl is xl for the simulated Xen host: it changes the host's
// guests from outside the daemon, as xl or another toolstack does on real
// Xen, so that what the daemon must notice (a guest destroyed, paused,
// ballooned or crashed behind its back) can be tried and tested on any
// machine. It acts on the simulated host of VIRTXEND_ROOT (or the real
// paths) as a second process sharing it, as xl shares Xen with libvirt.
//
//	simxl list
//	simxl destroy|pause|unpause|shutdown|reboot|crash DOMAIN
//	simxl mem-set DOMAIN KIB
//	simxl vcpu-set DOMAIN N
//	simxl vcpu-list DOMAIN
//	simxl sched-credit|sched-credit2 -d DOMAIN
//
// DOMAIN is a domid or a name.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/paths"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "simxl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: simxl list | destroy|pause|unpause|shutdown|reboot|crash DOMAIN | mem-set DOMAIN KIB | vcpu-set DOMAIN N | vcpu-list DOMAIN | sched-credit|sched-credit2 -d DOMAIN")
	}
	p := paths.FromEnv()
	cfg, err := config.LoadLibxl(p.LibxlConfig())
	if err != nil {
		return err
	}
	h, err := sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), PollInterval: -1})
	if err != nil {
		return err
	}
	defer h.Close()
	ctx := context.Background()
	if args[0] == "list" {
		return list(ctx, h)
	}
	if (args[0] == "sched-credit" || args[0] == "sched-credit2") && len(args) == 3 && args[1] == "-d" {
		id, err := find(ctx, h, args[2])
		if err != nil {
			return err
		}
		return schedDomain(ctx, os.Stdout, h, id, args[2], strings.TrimPrefix(args[0], "sched-"))
	}
	if len(args) < 2 {
		return fmt.Errorf("%s needs a domain", args[0])
	}
	id, err := find(ctx, h, args[1])
	if err != nil {
		return err
	}
	if args[0] == "vcpu-list" {
		return vcpuList(ctx, os.Stdout, h, id, args[1], cfg.Sim.CPUs)
	}
	return act(ctx, h, id, args[0], args[2:])
}

// act does one command to guest id.
func act(ctx context.Context, h *sim.Host, id backend.DomID, cmd string, rest []string) error {
	number := func() (uint64, error) {
		if len(rest) != 1 {
			return 0, fmt.Errorf("%s needs one value", cmd)
		}
		return strconv.ParseUint(rest[0], 10, 64)
	}
	switch cmd {
	case "destroy":
		return h.Vanish(ctx, id)
	case "pause":
		return h.Pause(ctx, id)
	case "unpause":
		return h.Unpause(ctx, id)
	case "shutdown":
		return h.GuestShutdown(ctx, id, backend.ReasonPoweroff)
	case "reboot":
		return h.GuestShutdown(ctx, id, backend.ReasonReboot)
	case "crash":
		return h.GuestShutdown(ctx, id, backend.ReasonCrash)
	case "mem-set":
		kib, err := number()
		if err != nil {
			return err
		}
		return h.SetMemoryTarget(ctx, id, kib)
	case "vcpu-set":
		n, err := number()
		if err != nil {
			return err
		}
		return h.SetVCPUsOnline(ctx, id, int(n))
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// find resolves a domid or a name, as xl does.
func find(ctx context.Context, h *sim.Host, s string) (backend.DomID, error) {
	guests, err := h.Guests(ctx)
	if err != nil {
		return 0, err
	}
	for _, g := range guests {
		if g.State != backend.StateDying && (g.Name == s || strconv.Itoa(int(g.DomID)) == s) {
			return g.DomID, nil
		}
	}
	return 0, fmt.Errorf("no domain %q on the simulated host", s)
}

func list(ctx context.Context, h *sim.Host) error {
	guests, err := h.Guests(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "Name\tID\tMem(KiB)\tVCPUs\tState\tTime(s)")
	for _, g := range guests {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%.1f\n", g.Name, g.DomID, g.CurrentMemKiB, g.VCPUsOnline, g.State, g.CPUTime.Seconds())
	}
	return w.Flush()
}
