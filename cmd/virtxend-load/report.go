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
	fmt.Fprintln(tw, "workload\tconns\tops\terrors\tops/s\tp50 µs\tp90 µs\tp99 µs\tmax µs\trss KiB\tpeak KiB\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%d\t\n", r.Workload, r.Conns, r.Ops,
			r.Errors, r.OpsPerSec, r.P50us, r.P90us, r.P99us, r.MaxUs, r.DaemonRSSKB, r.DaemonHWMKB)
	}
	tw.Flush()
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Workload, r.FirstError)
		}
	}
}
