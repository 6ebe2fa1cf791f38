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
//
// With -pid, each workload also reports the daemon's CPU time per call
// over its timed phase (/proc/PID/stat), and the memory workload its
// resident memory idle and with -domains defined.
//
// With -ready it starts a daemon (the command after the flags) and times
// it from exec to sd_notify's READY=1, then checks it recovered
// -expect-running guests; -start-running N starts N guests beforehand, for
// the restart. With -soak it runs -soak-cycles define/start/destroy/undefine
// cycles while clients registered for lifecycle events receive at least
// -soak-events deliveries, printing the daemon's resident memory as it goes,
// and flags growth.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

type settings struct {
	socket     string
	uri        string
	domType    string // "xen" or "test": which domain XML template to define
	domain     string // an existing domain for the lookup and dumpxml workloads
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
	floodCPUs  string        // CPUs the flooding process is bound to, "" for any
	settle     time.Duration // wait after the flood before measuring again
	durableDir string        // where durable-limit writes, on the daemon's filesystem
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
	flag.StringVar(&s.durableDir, "durable-dir", "", "a directory on the daemon's filesystem: define-undefine is followed by durable-limit, its writes and fsyncs made there directly, the disk's limit for it")
	flag.Float64Var(&s.rate, "rate", 0, "calls per second over all connections, each due at a fixed time (0: each connection calls as soon as answered)")
	flag.BoolVar(&s.hostile, "hostile", false, "measure lookups before, during and after a flood of malformed packets (-duration each)")
	flag.IntVar(&s.flooders, "flooders", 4, "with -hostile: concurrent goroutines of the flooding process for each kind of abuse, all kinds at once")
	flag.IntVar(&s.held, "held", 500, "with -hostile: half-open connections the flood keeps open at once")
	flag.DurationVar(&s.settle, "settle", 5*time.Second, "with -hostile: wait this long after the flood before measuring again")
	flag.StringVar(&s.floodKinds, "flood", "", "with -hostile: comma-separated kinds of abuse, of: "+strings.Join(floodKindNames(), ",")+" (default: all)")
	flag.IntVar(&s.floodNice, "flood-nice", 0, "with -hostile: nice value of the flooding process (19: it gets the CPU others leave, so what is measured is the daemon's handling of the flood, not the flooder's own use of the cores)")
	flag.StringVar(&s.floodCPUs, "flood-cpus", "", "with -hostile: CPUs (taskset -c list) the flooding process runs on; with this process and the daemon bound to others, what moves the lookups is the daemon's handling of the flood alone, not the flood's own use of the cores")
	floodOnly := flag.Bool("flood-only", false, "only flood the daemon for -duration and print the counts (the -hostile run's second process)")
	var rs readySettings
	ready := flag.Bool("ready", false, "start the daemon command given after the flags with NOTIFY_SOCKET set, time it to READY=1, check -expect-running, and leave it running")
	flag.IntVar(&rs.expectRunning, "expect-running", 0, "with -ready: running guests the daemon must have after its start (-1: any)")
	flag.StringVar(&rs.log, "ready-log", os.DevNull, "with -ready: file the daemon's output is appended to")
	flag.DurationVar(&rs.timeout, "ready-timeout", 5*time.Minute, "with -ready: how long to wait for READY=1")
	startN := flag.Int("start-running", 0, "define the -domains domains of the list-all workload if need be, start the first N of them, then exit")
	var ss soakSettings
	soak := flag.Bool("soak", false, "run -soak-cycles define/start/destroy/undefine cycles with -soak-events lifecycle event deliveries, sampling the daemon's memory")
	flag.IntVar(&ss.cycles, "soak-cycles", 10000, "with -soak: cycles to run")
	flag.IntVar(&ss.events, "soak-events", 100000, "with -soak: event deliveries to make at least (four per cycle per listener)")
	flag.DurationVar(&ss.max, "soak-max", 30*time.Minute, "with -soak: stop here, done or not")
	flag.DurationVar(&ss.interval, "soak-interval", 5*time.Second, "with -soak: between memory samples")
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
	if runMode(s, modes{ready: *ready, rs: rs, startN: *startN, soak: *soak, ss: ss}) {
		return
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

// modes are the runs other than the workloads: -ready, -start-running,
// -soak.
type modes struct {
	ready  bool
	rs     readySettings
	startN int
	soak   bool
	ss     soakSettings
}

// runMode runs the mode m asks for, if any, and exits on failure; it
// reports whether there was one.
func runMode(s settings, m modes) bool {
	switch {
	case m.ready:
		m.rs.command = flag.Args()
		if len(m.rs.command) == 0 {
			fmt.Fprintln(os.Stderr, "virtxend-load: -ready needs the daemon's command after the flags")
			os.Exit(2)
		}
		r, err := runReady(s, m.rs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		report(os.Stdout, []result{r}, s.jsonOut)
		if r.Errors > 0 {
			os.Exit(1)
		}
		return true
	case m.startN > 0:
		if err := startRunning(s, m.startN); err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		return true
	case m.soak:
		progress := io.Writer(os.Stdout)
		if s.jsonOut {
			progress = os.Stderr
		}
		rep, err := runSoak(s, m.ss, progress)
		if err != nil {
			fmt.Fprintln(os.Stderr, "virtxend-load:", err)
			os.Exit(1)
		}
		rep.print(os.Stdout, s.jsonOut)
		if rep.Flagged != "" {
			os.Exit(3)
		}
		return true
	}
	return false
}
