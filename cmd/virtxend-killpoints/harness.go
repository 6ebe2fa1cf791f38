package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"virtxend/internal/paths"
	"virtxend/internal/store"
)

// harness is one run: a root, the daemon binary, the ledger and the figures.
type harness struct {
	s      settings
	bin    string
	root   string
	sock   string
	rng    *rand.Rand
	ledger *ledger
	owned  [][]string
	sum    summary
}

// maxProblems ends a run early: past it, more reports only repeat.
const maxProblems = 20

func run(s settings) (*summary, error) {
	work, err := os.MkdirTemp("", "virtxend-killpoints-")
	if err != nil {
		return nil, err
	}
	h := &harness{s: s, bin: s.daemon, root: filepath.Join(work, "root"), rng: rand.New(rand.NewSource(s.seed))}
	if h.bin == "" {
		if h.bin, err = buildDaemon(work); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(h.root, "etc", "libvirt"), 0o755); err != nil {
		return nil, err
	}
	h.sock = filepath.Join(paths.Under(h.root).SocketDir(), paths.RWSocketName)
	h.ledger, h.owned = newLedger(s.clients, s.names)
	h.sum = newSummary(s.seed)
	begin := time.Now()
	for h.sum.Kills < s.kills && (s.duration == 0 || time.Since(begin) < s.duration) && len(h.sum.Problems) < maxProblems {
		h.ledger.mu.Lock()
		h.ledger.cycle++
		h.ledger.mu.Unlock()
		if err := h.cycle(); err != nil {
			h.sum.problem("cycle %d: %v", h.ledger.cycle, err)
			break
		}
	}
	h.sum.Wall = time.Since(begin).Round(time.Millisecond).String()
	h.sum.Acked = h.ledger.acked.Load()
	h.sum.AckedByOp = h.ledger.byOp
	if h.sum.ok() {
		os.RemoveAll(work)
	} else {
		h.sum.KeptRoot = h.root
	}
	return &h.sum, nil
}

// kill is how a cycle ends: at the atWrite-th crash point of the daemon's
// store, or after delay from its start.
type kill struct {
	atWrite int
	delay   time.Duration
}

func (h *harness) pickKill() kill {
	if h.rng.Float64() < h.s.writeShare {
		return kill{atWrite: 1 + h.rng.Intn(h.s.maxWrite)}
	}
	return kill{delay: time.Duration(h.rng.Int63n(int64(h.s.maxDelay)))}
}

// cycle starts the daemon, loads it until it is killed, and checks.
func (h *harness) cycle() error {
	k := h.pickKill()
	d, err := startDaemon(h.bin, h.root, k.atWrite)
	if err != nil {
		return err
	}
	served, timedOut, errs := h.load(d, k)
	h.record(d, k, served, timedOut, errs)
	return h.check()
}

// load runs the clients from the moment d serves until d is dead: killed
// by its armed crash point, by the random timer, or by the cycle limit.
func (h *harness) load(d *daemon, k kill) (served, timedOut bool, errs []error) {
	limit := h.s.cycleLimit
	if k.atWrite == 0 {
		limit = time.Until(d.started.Add(k.delay))
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	servedCh := make(chan bool, 1)
	go func() { servedCh <- d.waitServing(h.sock, h.s.cycleLimit) }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs = make([]error, len(h.owned))
	for !d.exited() {
		select {
		case ok := <-servedCh:
			servedCh = nil
			if ok {
				served = true
				for c, names := range h.owned {
					rng := rand.New(rand.NewSource(h.rng.Int63()))
					wg.Add(1)
					go func() { defer wg.Done(); errs[c] = runClient(h.sock, h.ledger, names, rng, stop) }()
				}
			}
		case <-timer.C:
			timedOut = k.atWrite > 0
			d.kill()
		case <-d.done:
		}
	}
	close(stop)
	wg.Wait()
	return served, timedOut, errs
}

// record counts the kill, and reports a daemon that died of anything but
// SIGKILL or a client the daemon refused.
func (h *harness) record(d *daemon, k kill, served, timedOut bool, errs []error) {
	h.sum.Kills++
	if !served {
		h.sum.BeforeServing++
	}
	ws, _ := d.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		h.sum.problem("cycle %d: the daemon ended by itself (%v):\n%s", h.ledger.cycle, d.cmd.ProcessState, d.output())
	}
	for _, err := range errs {
		if err != nil && refused(err) {
			h.sum.problem("cycle %d: the daemon refused an operation that applied: %v", h.ledger.cycle, err)
		}
	}
	where := fmt.Sprintf("at %v", time.Duration(k.delay).Round(time.Millisecond))
	kp, atWrite := store.ParseKillPoint(d.hookLine())
	switch {
	case atWrite:
		h.sum.AtWrite++
		h.sum.Steps[kp.Step+" "+fileKind(h.root, kp.Path)]++
		where = fmt.Sprintf("at %d %s %s", kp.N, kp.Step, kp.Path)
	case timedOut:
		h.sum.NoWrite++
		where = fmt.Sprintf("at the cycle limit, before write %d", k.atWrite)
	default:
		h.sum.Random++
	}
	if h.s.verbose {
		fmt.Printf("cycle %d: killed %s (served %v, %d acknowledged so far)\n",
			h.ledger.cycle, where, served, h.ledger.acked.Load())
	}
}

// fileKind names what a written path is, for the figures.
func fileKind(root, path string) string {
	p := paths.Under(root)
	dir, base := filepath.Dir(path), filepath.Base(path)
	switch {
	case strings.HasPrefix(base, ".host.json") || base == "host.json":
		return "host.json"
	case dir == p.AutostartDir():
		return "autostart-link"
	case dir == p.DomainConfigDir():
		return "config"
	case strings.HasPrefix(base, "."+filepath.Base(p.AutostartMarker())) || path == p.AutostartMarker():
		return "autostart-marker"
	case dir == p.StateDir():
		return "status"
	case strings.HasPrefix(path, p.SnapshotDir()+"/"):
		return "snapshot"
	}
	return "directory"
}

// check looks at the files the kill left, restarts the daemon and
// compares what it shows with the ledger.
func (h *harness) check() error {
	h.checkAfterKill()
	if h.sum.Kills < h.s.kills && h.rng.Float64() < h.s.recoveryShare {
		if err := h.killRecovery(); err != nil {
			return err
		}
	}
	v, err := startDaemon(h.bin, h.root, 0)
	if err != nil {
		return err
	}
	if !v.waitServing(h.sock, time.Minute) {
		v.kill()
		return fmt.Errorf("the restarted daemon does not serve:\n%s", v.output())
	}
	seen, err := h.compare()
	if code, err := v.stop(30 * time.Second); err != nil || code != 0 {
		h.sum.problem("cycle %d: the restarted daemon stopped with %d, %v:\n%s", h.ledger.cycle, code, err, v.output())
	}
	if err != nil {
		return err
	}
	_, problems := checkFiles(h.root, false)
	for _, p := range problems {
		h.sum.problem("cycle %d, after the restart: %s", h.ledger.cycle, p)
	}
	for _, p := range checkSnapshotOwners(h.root, seen) {
		h.sum.problem("cycle %d, after the restart: %s", h.ledger.cycle, p)
	}
	for _, p := range checkHost(h.root, seen) {
		h.sum.problem("cycle %d: %s", h.ledger.cycle, p)
	}
	return nil
}

func (h *harness) checkAfterKill() {
	leftovers, problems := checkFiles(h.root, true)
	h.sum.Leftovers += leftovers
	for _, p := range problems {
		h.sum.problem("cycle %d, after the kill: %s", h.ledger.cycle, p)
	}
}

// killRecovery kills a daemon while it recovers from the kill before: at
// one of its first store writes (cleaning up the temporaries and links
// that kill left, rewriting status files, undoing unfinished starts), with
// no load, so the ledger is unchanged. A daemon that serves before its
// write came is killed there.
func (h *harness) killRecovery() error {
	at := 1 + h.rng.Intn(1+h.rng.Intn(maxRecoveryWrite)) // the first writes more often

	d, err := startDaemon(h.bin, h.root, at)
	if err != nil {
		return err
	}
	if d.waitServing(h.sock, h.s.cycleLimit) {
		d.kill()
	}
	<-d.done
	h.sum.Kills++
	h.sum.Recovery++
	if line := d.hookLine(); line != "" {
		f := strings.Fields(line)
		h.sum.Steps[f[2]+" "+fileKind(h.root, f[3])]++
		h.sum.AtWrite++
	} else {
		h.sum.RecoveryServed++
	}
	if h.s.verbose {
		fmt.Printf("cycle %d: killed while recovering, at write %d: %s\n", h.ledger.cycle, at, d.hookLine())
	}
	h.checkAfterKill()
	return nil
}

// maxRecoveryWrite bounds the write a recovery kill stops at: a start
// makes a few dozen before it serves, the clean-up of what the kill left
// first.
const maxRecoveryWrite = 40

// compare reads every name from the restarted daemon and holds it against
// the ledger, then settles the ledger on what it saw.
func (h *harness) compare() (map[string]guest, error) {
	l, err := dial(h.sock)
	if err != nil {
		return nil, err
	}
	defer l.Disconnect()
	seen := map[string]guest{}
	for _, name := range h.ledger.sortedNames() {
		g, err := observe(l, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		seen[name] = g
		h.judge(name, g)
	}
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		return nil, err
	}
	for _, d := range doms {
		if _, ours := seen[d.Name]; !ours && d.Name != "Domain-0" {
			h.sum.problem("cycle %d: the daemon lists %s, which no client made", h.ledger.cycle, d.Name)
		}
	}
	return seen, nil
}

// judge holds what the daemon shows of name against the ledger.
func (h *harness) judge(name string, got guest) {
	h.ledger.mu.Lock()
	e := h.ledger.names[name]
	acked, p, history := e.acked, e.pending, strings.Join(e.history, "\n    ")
	h.ledger.mu.Unlock()
	defer h.ledger.settle(name, got)
	if p == nil {
		if !acked.matches(got) {
			h.sum.Lost++
			h.sum.problem("cycle %d: LOST: %s acknowledged %v, the restarted daemon shows %v; its history:\n    %s",
				h.ledger.cycle, name, acked, got, history)
		}
		return
	}
	h.sum.InFlight++
	f := h.sum.InFlightByOp[p.op]
	if f == nil {
		f = &flight{}
		h.sum.InFlightByOp[p.op] = f
	}
	f.N++
	if p.after.matches(got) && !p.before.matches(got) {
		h.sum.InFlightApplied++
		f.Applied++
	}
	if p.before.matches(got) || p.after.matches(got) {
		return
	}
	for _, mid := range p.partial {
		if mid.matches(got) {
			h.sum.InFlightPartial++
			f.Partial++
			return
		}
	}
	h.sum.HalfApplied++
	h.sum.problem("cycle %d: HALF-APPLIED: %s with %s in flight (before %v, after %v) shows %v; its history:\n    %s",
		h.ledger.cycle, name, p.op, p.before, p.after, got, history)
}
