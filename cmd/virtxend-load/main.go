// Command virtxend-load drives a libvirt daemon over its Unix socket with N
// concurrent go-libvirt connections and reports throughput, latency
// percentiles and the daemon's memory. It runs the same load against
// virtxend and against Debian's libvirtd (test driver), so the two can be
// compared as a ratio on one machine in one run (scripts/bench-compare).
//
// With -hostile it measures what a hostile client costs the others: lookups
// on -conns connections alone, then while a second process floods the
// daemon with malformed packets (bad lengths, unknown programs, truncated
// XDR, 32 MiB packets whole and cut short, half-open connections, streams
// of PINGs read and unread, connect storms; see flood.go), then alone again
// after -settle, with the daemon's resident memory before, at its peak
// during, and after.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type settings struct {
	socket     string
	uri        string
	domType    string // "xen" or "test": which domain XML template to define
	conns      int
	duration   time.Duration
	domains    int // domains defined before the list workload
	volumes    int // volumes made before the storage workloads
	pid        int // the daemon's pid, for its memory figures
	only       string
	jsonOut    bool
	rate       float64       // calls per second over all connections; 0: as fast as they answer
	hostile    bool          // -hostile: lookups before, during and after a flood
	flooders   int           // goroutines of the flood
	held       int           // half-open connections the flood keeps
	floodKinds string        // comma-separated kinds of the flood, "" for all
	floodNice  int           // nice value of the flooding process
	settle     time.Duration // wait after the flood before measuring again
}

func main() {
	var s settings
	flag.StringVar(&s.socket, "socket", "", "path of the daemon's read-write socket (required)")
	flag.StringVar(&s.uri, "uri", "xen:///system", "URI sent in CONNECT_OPEN")
	flag.StringVar(&s.domType, "domtype", "xen", "domain XML template to define: xen or test")
	flag.IntVar(&s.conns, "conns", 8, "concurrent connections")
	flag.DurationVar(&s.duration, "duration", 3*time.Second, "how long each workload runs")
	flag.IntVar(&s.domains, "domains", 10000, "domains defined for the list-all workload")
	flag.IntVar(&s.volumes, "volumes", 1000, "volumes made in a pool for the pool-list and vol-list workloads")
	flag.IntVar(&s.pid, "pid", 0, "daemon pid, to report its resident memory")
	flag.StringVar(&s.only, "workloads", "", "comma-separated workloads of: "+strings.Join(workloadNames(), ",")+
		" (default: "+strings.Join(defaultWorkloads, ",")+")")
	flag.BoolVar(&s.jsonOut, "json", false, "print results as JSON lines")
	flag.Float64Var(&s.rate, "rate", 0, "calls per second over all connections, each due at a fixed time (0: each connection calls as soon as answered)")
	flag.BoolVar(&s.hostile, "hostile", false, "measure lookups before, during and after a flood of malformed packets (-duration each)")
	flag.IntVar(&s.flooders, "flooders", 4, "with -hostile: concurrent goroutines of the flooding process")
	flag.IntVar(&s.held, "held", 500, "with -hostile: half-open connections the flood keeps open at once")
	flag.DurationVar(&s.settle, "settle", 5*time.Second, "with -hostile: wait this long after the flood before measuring again")
	flag.StringVar(&s.floodKinds, "flood", "", "with -hostile: comma-separated kinds of abuse, of: "+strings.Join(floodKindNames(), ",")+" (default: all)")
	flag.IntVar(&s.floodNice, "flood-nice", 0, "with -hostile: nice value of the flooding process (19: it gets the CPU others leave, so what is measured is the daemon's handling of the flood, not the flooder's own use of the cores)")
	floodOnly := flag.Bool("flood-only", false, "only flood the daemon for -duration and print the counts (the -hostile run's second process)")
	ratio := flag.Bool("ratio", false, "compare two -json result files given as arguments: ours, then the baseline")
	flag.Parse()
	if *ratio {
		if err := compareFiles(os.Stdout, flag.Arg(0), flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		return
	}
	if s.socket == "" {
		fmt.Fprintln(os.Stderr, "virtxend-load: -socket is required")
		os.Exit(2)
	}
	if *floodOnly {
		if err := runFloodOnly(s); err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		return
	}
	if s.hostile {
		rep, err := runHostile(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		rep.print(os.Stdout, s.jsonOut)
		return
	}
	results, err := run(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "virtxend-load:", err)
		os.Exit(1)
	}
	report(os.Stdout, results, s.jsonOut)
}
