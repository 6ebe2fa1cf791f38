// Command virtxend-load drives a libvirt daemon over its Unix socket with N
// concurrent go-libvirt connections and reports throughput, latency
// percentiles and the daemon's memory. It runs the same load against
// virtxend and against Debian's libvirtd (test driver), so the two can be
// compared as a ratio on one machine in one run (scripts/bench-compare).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type settings struct {
	socket   string
	uri      string
	domType  string // "xen" or "test": which domain XML template to define
	domain   string // an existing domain for the lookup and dumpxml workloads
	conns    int
	duration time.Duration
	domains  int // domains defined before the list workload
	volumes  int // volumes made before the storage workloads
	pid      int // the daemon's pid, for its memory figures
	only     string
	jsonOut  bool
}

func main() {
	var s settings
	flag.StringVar(&s.socket, "socket", "", "path of the daemon's read-write socket (required)")
	flag.StringVar(&s.uri, "uri", "xen:///system", "URI sent in CONNECT_OPEN")
	flag.StringVar(&s.domType, "domtype", "xen", "domain XML template to define: xen or test")
	flag.StringVar(&s.domain, "domain", "", "an existing domain (a running guest) for the lookup and dumpxml workloads, instead of one they define")
	flag.IntVar(&s.conns, "conns", 8, "concurrent connections")
	flag.DurationVar(&s.duration, "duration", 3*time.Second, "how long each workload runs")
	flag.IntVar(&s.domains, "domains", 10000, "domains defined for the list-all workload")
	flag.IntVar(&s.volumes, "volumes", 1000, "volumes made in a pool for the pool-list and vol-list workloads")
	flag.IntVar(&s.pid, "pid", 0, "daemon pid, to report its resident memory")
	flag.StringVar(&s.only, "workloads", "", "comma-separated workloads of: "+strings.Join(workloadNames(), ",")+
		" (default: "+strings.Join(defaultWorkloads, ",")+")")
	flag.BoolVar(&s.jsonOut, "json", false, "print results as JSON lines")
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
	results, err := run(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "virtxend-load:", err)
		os.Exit(1)
	}
	report(os.Stdout, results, s.jsonOut)
}
