// Command virtxend-killpoints kills the daemon with SIGKILL at many moments
// under a mixed load and checks, after each kill, that a restarted daemon
// shows exactly what the acknowledged history says: issue 20's kill-point
// harness.
//
// It runs the real daemon binary, built with -tags killpoints, on the
// simulated Xen host in a temporary root. Several go-libvirt clients
// define, redefine, undefine, start, destroy, managed-save, toggle
// autostart, set metadata, attach and detach a disk, and redefine and
// delete snapshot metadata on domains of their own, recording each
// operation before it is sent and once it is acknowledged. Each cycle ends with a SIGKILL: at a
// random moment after the daemon was started (during its recovery, too),
// or at its Nth store write, where the crash point the killpoints build
// compiles into internal/store makes the daemon kill itself between two
// steps of a write (temporary created, data written, synced, renamed,
// directory synced; likewise for removals, links and directories). A share
// of the kills are followed by a second one, of the daemon recovering from
// the first, at one of its first writes. Then:
//
//   - the files the kill left are whole: every config, status file,
//     autostart link, snapshot metadata file, the hypervisor's state and
//     the autostart marker; no domain has two snapshots marked current;
//   - a restarted daemon removes every temporary, and shows each domain
//     as its last acknowledged operation left it, or, if an operation was
//     in flight, as before or after it (or in one of the in-between states
//     that operation declares, see op.partial), never anything else;
//   - every guest acknowledged running runs with its domid, and the
//     hypervisor runs exactly the guests the daemon shows running;
//   - every snapshot directory belongs to a domain the daemon shows, and
//     holds only snapshots of its uuid.
//
// What the restarted daemon shows becomes the next cycle's starting state.
// The exit status is 0 when nothing was lost, 1 otherwise; the root of a
// failed run is kept for inspection.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type settings struct {
	kills      int
	duration   time.Duration
	clients    int
	names      int
	writeShare float64
	// recoveryShare is the share of kills followed by a second kill of
	// the daemon recovering from the first.
	recoveryShare float64
	maxWrite      int
	maxDelay      time.Duration
	cycleLimit    time.Duration
	daemon        string
	seed          int64
	verbose       bool
	jsonOut       bool
}

func main() {
	var s settings
	flag.IntVar(&s.kills, "kills", 1000, "kill points: cycles of load, SIGKILL, restart and check")
	flag.DurationVar(&s.duration, "duration", 0, "stop after this long even if fewer kills were made (0: no bound)")
	flag.IntVar(&s.clients, "clients", 4, "concurrent go-libvirt clients")
	flag.IntVar(&s.names, "names", 6, "domain names per client")
	flag.Float64Var(&s.writeShare, "write-share", 0.5, "share of the kills made at a store write rather than at a random time")
	flag.Float64Var(&s.recoveryShare, "recovery-share", 0.25, "share of the kills followed by a second kill, at one of the first writes of the daemon recovering from it")
	flag.IntVar(&s.maxWrite, "max-write", 200, "a store-write kill stops the daemon at its Nth write step, N uniform in 1..max-write")
	flag.DurationVar(&s.maxDelay, "max-delay", 600*time.Millisecond, "a random kill falls uniformly within this long of the daemon's start")
	flag.DurationVar(&s.cycleLimit, "cycle-limit", 10*time.Second, "longest a cycle may wait for its store write before killing anyway")
	flag.StringVar(&s.daemon, "daemon", "", "the daemon built with -tags killpoints (default: build it with go build)")
	flag.Int64Var(&s.seed, "seed", 0, "random seed (0: from the clock); printed, to repeat a run's choices")
	flag.BoolVar(&s.verbose, "v", false, "print a line per kill")
	flag.BoolVar(&s.jsonOut, "json", false, "print the summary as JSON")
	flag.Parse()
	if s.kills < 1 || s.clients < 1 || s.names < 1 || s.maxWrite < 1 || s.maxDelay <= 0 {
		fmt.Fprintln(os.Stderr, "virtxend-killpoints: -kills, -clients, -names, -max-write and -max-delay must be positive")
		os.Exit(2)
	}
	if s.seed == 0 {
		s.seed = time.Now().UnixNano()
	}
	sum, err := run(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "virtxend-killpoints:", err)
		os.Exit(1)
	}
	sum.print(os.Stdout, s.jsonOut)
	if !sum.ok() {
		os.Exit(1)
	}
}
