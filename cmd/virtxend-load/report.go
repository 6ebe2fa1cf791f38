package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

func report(w io.Writer, results []result, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range results {
			enc.Encode(r)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tconns\tops\terrors\tops/s\tp50 µs\tp90 µs\tp99 µs\tmax µs\tdaemon CPU µs/call\trss KiB\tpeak KiB\t")
	for _, r := range results {
		if r.untimed() {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%d\t%d\t\n", r.Workload, r.Conns, r.Ops,
			r.Errors, r.OpsPerSec, r.P50us, r.P90us, r.P99us, r.MaxUs, r.DaemonCPUus, r.DaemonRSSKB, r.DaemonHWMKB)
	}
	tw.Flush()
	for _, r := range results {
		switch r.Workload {
		case "memory":
			fmt.Fprintf(w, "memory: idle %d KiB (%d KiB anonymous), %d KiB with %d domains: %.0f bytes per domain\n",
				r.IdleRSSKB, r.IdleAnonKB, r.DefinedRSSKB, r.Domains, r.PerDomainB)
		case "start-ready":
			fmt.Fprintf(w, "start to READY=1: %.0f ms with %d domains, %d running guests (%d expected, -1: unchecked), rss %d KiB\n",
				r.ReadyMs, r.Domains, r.Recovered, r.Running, r.DaemonRSSKB)
		}
	}
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Workload, r.FirstError)
		}
	}
}

// untimed says whether r is a figure of its own rather than a timed loop
// of calls (the memory and start-ready workloads).
func (r result) untimed() bool { return r.Workload == "memory" || r.Workload == "start-ready" }

// daemonCPUShare is the share of one core the daemon used over the timed
// phase, whatever it spent it on: in a -hostile run, the flood's cost
// beside the lookups'.
func (r result) daemonCPUShare() float64 { return r.DaemonCPUus * r.OpsPerSec / 1e6 }
