package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// compareFiles prints, per workload, our figures over the baseline's: a
// throughput ratio above 1 and latency ratios below 1 mean we are faster;
// "CPU × less" is the baseline daemon's CPU per call over ours, above 1
// when ours spends less.
func compareFiles(w io.Writer, ours, baseline string) error {
	a, err := readResults(ours)
	if err != nil {
		return err
	}
	baseList, err := readResults(baseline)
	if err != nil {
		return err
	}
	b := map[string]result{}
	for _, r := range baseList {
		b[r.Workload] = r
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tours ops/s\tbaseline ops/s\tthroughput ×\tp50 ×\tp99 ×\tours CPU µs/call\tbaseline CPU µs/call\tCPU × less\tpeak RSS ×\t")
	for _, r := range a {
		base, ok := b[r.Workload]
		if !ok || r.untimed() {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.2f\t%.2f\t\n", r.Workload, r.OpsPerSec, base.OpsPerSec,
			div(r.OpsPerSec, base.OpsPerSec), div(r.P50us, base.P50us), div(r.P99us, base.P99us),
			r.DaemonCPUus, base.DaemonCPUus, div(base.DaemonCPUus, r.DaemonCPUus),
			div(float64(r.DaemonHWMKB), float64(base.DaemonHWMKB)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ownBy := map[string]result{}
	for _, r := range a {
		ownBy[r.Workload] = r
	}
	if def, lim := ownBy["define-undefine"], ownBy["durable-limit"]; lim.OpsPerSec > 0 {
		fmt.Fprintf(w, "define+undefine: ours %.0f ops/s, the same writes made directly %.0f ops/s: %.0f%% of the disk's durable-write limit\n",
			def.OpsPerSec, lim.OpsPerSec, 100*div(def.OpsPerSec, lim.OpsPerSec))
	}
	for _, r := range a {
		base := b[r.Workload]
		switch r.Workload {
		case "memory":
			fmt.Fprintf(w, "idle RSS: ours %d KiB, baseline %d KiB (%.2f×); anonymous: ours %d KiB, baseline %d KiB (%.2f×)\n",
				r.IdleRSSKB, base.IdleRSSKB, div(float64(r.IdleRSSKB), float64(base.IdleRSSKB)),
				r.IdleAnonKB, base.IdleAnonKB, div(float64(r.IdleAnonKB), float64(base.IdleAnonKB)))
			fmt.Fprintf(w, "RSS per defined domain (%d defined): ours %.0f bytes, baseline %.0f bytes (%.2f×)\n",
				r.Domains, r.PerDomainB, base.PerDomainB, div(r.PerDomainB, base.PerDomainB))
		case "start-ready":
			fmt.Fprintf(w, "start to READY=1: ours %.0f ms (%d domains, %d of %d running recovered)", r.ReadyMs,
				r.Domains, r.Recovered, r.Running)
			if base.ReadyMs > 0 {
				fmt.Fprintf(w, ", baseline %.0f ms (%d domains)", base.ReadyMs, base.Domains)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// readResults reads -json output, in the order the workloads ran.
func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
