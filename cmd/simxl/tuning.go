package main

import (
	"context"
	"fmt"
	"io"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/domxml"
)

// vcpuList is xl vcpu-list DOMAIN in xl's layout: each vCPU's CPU, state
// (r running, b blocked, p offline), time and hard affinity, soft "all".
func vcpuList(ctx context.Context, w io.Writer, h *sim.Host, id backend.DomID, name string, cpus int) error {
	s, err := h.Stats(ctx, []backend.DomID{id})
	if err != nil {
		return err
	}
	if len(s) != 1 {
		return fmt.Errorf("no domain %d", id)
	}
	fmt.Fprintf(w, "%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)", "Affinity (Hard / Soft)")
	for _, v := range s[0].VCPUs {
		fmt.Fprintf(w, "%-32s %5d %5d", name, id, v.ID)
		if !v.Online {
			fmt.Fprintf(w, "%5c %3c%cp ", '-', '-', '-')
		} else {
			state := [2]byte{'-', '-'}
			if v.State == backend.VCPURunning {
				state[0] = 'r'
			}
			if v.State == backend.VCPUBlocked {
				state[1] = 'b'
			}
			fmt.Fprintf(w, "%5d %3c%c- ", v.CPU, state[0], state[1])
		}
		fmt.Fprintf(w, "%9.1f  %s / all\n", v.CPUTime.Seconds(), bitmap(v.Affinity, cpus))
	}
	return nil
}

// bitmap is xl's print_bitmap: "all", "none" or a CPU list.
func bitmap(set []int, cpus int) string {
	switch {
	case len(set) == 0:
		return "none"
	case len(set) == cpus:
		return "all"
	}
	return domxml.FormatCPUSet(set)
}

// schedDomain is xl sched-credit -d DOMAIN and xl sched-credit2 -d
// DOMAIN: the domain's weight and cap, under that scheduler only.
func schedDomain(ctx context.Context, w io.Writer, h *sim.Host, id backend.DomID, name, which string) error {
	s, err := h.Scheduler(ctx)
	if err != nil {
		return err
	}
	if s.String() != which {
		return fmt.Errorf("the host runs %s, not %s", s, which)
	}
	p, err := h.SchedParams(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap")
	fmt.Fprintf(w, "%-33s %4d %6d %4d\n", name, id, p.Weight, p.Cap)
	return nil
}
