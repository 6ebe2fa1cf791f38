package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// soakSettings bound a -soak run in count and in time.
type soakSettings struct {
	cycles   int           // define/start/destroy/undefine cycles
	events   int           // lifecycle event deliveries, at least
	max      time.Duration // the run stops here, done or not
	interval time.Duration // between memory samples
}

// soakSample is the daemon's state at one moment of the soak.
type soakSample struct {
	ElapsedS float64 `json:"elapsed_s"`
	Cycles   int64   `json:"cycles"`
	Events   int64   `json:"events"`
	RSSKB    int64   `json:"rss_kib"`
	FDs      int     `json:"fds"`
}

// soakReport is a -soak run's outcome.
type soakReport struct {
	Cycles     int64        `json:"cycles"`
	Listeners  int          `json:"listeners"`
	Events     int64        `json:"events"`
	Expected   int64        `json:"events_expected"`
	Errors     int64        `json:"errors"`
	FirstError string       `json:"first_error,omitempty"`
	ElapsedS   float64      `json:"elapsed_s"`
	Samples    []soakSample `json:"samples"`
	// BaselineKB is the resident memory once a tenth of the cycles ran
	// (the daemon's working size: pools, maps and buffers grown); GrowthKB
	// what a least-squares line through the later samples gains over
	// them, so that the collector's sawtooth does not read as growth.
	BaselineKB int64  `json:"baseline_rss_kib"`
	FinalKB    int64  `json:"final_rss_kib"`
	GrowthKB   int64  `json:"fitted_growth_kib"`
	Flagged    string `json:"flagged,omitempty"`
}

// soakErrorLimit stops a soak whose calls keep failing.
const soakErrorLimit = 100

// runSoak runs ss.cycles define/start/destroy/undefine cycles on s.conns
// connections while enough clients registered for lifecycle events (each
// cycle makes four) receive ss.events deliveries, sampling the daemon's
// resident memory and open files every ss.interval.
func runSoak(s settings, ss soakSettings, progress io.Writer) (*soakReport, error) {
	pidTag = int64(os.Getpid())
	rep := &soakReport{Listeners: max(1, (ss.events+4*ss.cycles-1)/max(1, 4*ss.cycles))}
	var events atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range rep.Listeners {
		l, err := listen(ctx, s, &events)
		if err != nil {
			return nil, err
		}
		defer l.Disconnect()
	}
	c := &cyclers{s: s, total: int64(ss.cycles), stop: time.Now().Add(ss.max)}
	start := time.Now()
	sample := func() soakSample {
		rss, _ := daemonMemory(s.pid)
		smp := soakSample{ElapsedS: time.Since(start).Seconds(), Cycles: c.done.Load(), Events: events.Load(),
			RSSKB: rss, FDs: daemonFDs(s.pid)}
		printSample(progress, smp)
		return smp
	}
	rep.Samples = append(rep.Samples, sample())
	done, err := c.start()
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(ss.interval)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
			rep.Samples = append(rep.Samples, sample())
		}
	}
	rep.Cycles, rep.Errors, rep.FirstError = c.done.Load(), c.errs.Load(), c.firstError()
	// Each cycle makes four events (defined, started, stopped, undefined)
	// for each listener; wait a little for those still on their way.
	rep.Expected = 4 * rep.Cycles * int64(rep.Listeners)
	for t := time.Now(); events.Load() < rep.Expected && time.Since(t) < 10*time.Second; {
		time.Sleep(50 * time.Millisecond)
	}
	rep.Events = events.Load()
	rep.ElapsedS = time.Since(start).Seconds()
	rep.Samples = append(rep.Samples, sample())
	rep.judge(int64(ss.cycles))
	return rep, nil
}

// listen connects a client registered for lifecycle events, counting
// those it receives in n.
func listen(ctx context.Context, s settings, n *atomic.Int64) (*libvirt.Libvirt, error) {
	l, err := connect(s)
	if err != nil {
		return nil, err
	}
	ch, err := l.LifecycleEvents(ctx)
	if err != nil {
		l.Disconnect()
		return nil, fmt.Errorf("register for lifecycle events: %w", err)
	}
	go func() {
		for range ch {
			n.Add(1)
		}
	}()
	return l, nil
}

// cyclers run the soak's cycles on s.conns connections until total are
// claimed, the stop time comes or too many failed.
type cyclers struct {
	s             settings
	total         int64
	stop          time.Time
	claimed, done atomic.Int64
	errs          atomic.Int64
	firstErr      atomic.Value
}

// start connects and starts the connections' loops; the channel closes
// when all have ended, and their connections with them.
func (c *cyclers) start() (<-chan struct{}, error) {
	conns := make([]*libvirt.Libvirt, c.s.conns)
	for i := range conns {
		l, err := connect(c.s)
		if err != nil {
			for _, l := range conns[:i] {
				l.Disconnect()
			}
			return nil, err
		}
		conns[i] = l
	}
	var wg sync.WaitGroup
	for _, l := range conns {
		wg.Go(func() {
			defer l.Disconnect()
			c.loop(l)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done, nil
}

func (c *cyclers) loop(l *libvirt.Libvirt) {
	for time.Now().Before(c.stop) && c.errs.Load() < soakErrorLimit {
		i := c.claimed.Add(1)
		if i > c.total {
			return
		}
		if err := soakCycle(l, c.s, i); err != nil {
			c.firstErr.CompareAndSwap(nil, err.Error())
			c.errs.Add(1)
			continue
		}
		c.done.Add(1)
	}
}

func (c *cyclers) firstError() string {
	if v := c.firstErr.Load(); v != nil {
		return v.(string)
	}
	return ""
}

// soakCycle is one guest's life: define, start, destroy, undefine.
func soakCycle(l *libvirt.Libvirt, s settings, i int64) error {
	d, err := l.DomainDefineXML(domainXML(s.domType, fmt.Sprintf("soak-%d-%d", pidTag, i)))
	if err != nil {
		return fmt.Errorf("define: %w", err)
	}
	if err := l.DomainCreate(d); err != nil {
		l.DomainUndefine(d)
		return fmt.Errorf("start: %w", err)
	}
	if err := l.DomainDestroy(d); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	if err := l.DomainUndefine(d); err != nil {
		return fmt.Errorf("undefine: %w", err)
	}
	return nil
}

func printSample(w io.Writer, s soakSample) {
	fmt.Fprintf(w, "%8.1fs  %7d cycles  %8d events  rss %7d KiB  fds %d\n", s.ElapsedS, s.Cycles, s.Events, s.RSSKB, s.FDs)
}

// judge fills in the baseline, the fitted growth after it, and what to
// flag: memory that grows beyond the collector's noise (a tenth of the
// baseline, and at least 4 MiB), open files that grow, events lost.
func (r *soakReport) judge(target int64) {
	warm := max(target/10, 1)
	var later []soakSample
	for _, s := range r.Samples {
		if s.Cycles >= warm {
			if r.BaselineKB == 0 {
				r.BaselineKB = s.RSSKB
			}
			later = append(later, s)
		}
	}
	last := r.Samples[len(r.Samples)-1]
	r.FinalKB = last.RSSKB
	r.GrowthKB = fittedGrowth(later)
	var flags []string
	if r.BaselineKB > 0 && r.GrowthKB > max(r.BaselineKB/10, 4<<10) {
		flags = append(flags, fmt.Sprintf("resident memory grew %d KiB over %d KiB", r.GrowthKB, r.BaselineKB))
	}
	if len(later) > 0 && last.FDs > later[0].FDs+8 {
		flags = append(flags, fmt.Sprintf("open files grew from %d to %d", later[0].FDs, last.FDs))
	}
	if r.Events < r.Expected {
		flags = append(flags, fmt.Sprintf("%d of %d events not delivered", r.Expected-r.Events, r.Expected))
	}
	if r.Errors > 0 {
		flags = append(flags, fmt.Sprintf("%d cycles failed", r.Errors))
	}
	if len(flags) > 0 {
		b, _ := json.Marshal(flags)
		r.Flagged = string(b)
	}
}

// fittedGrowth is what the least-squares line of RSS against cycles gains
// from the first sample's cycles to the last's.
func fittedGrowth(ss []soakSample) int64 {
	if len(ss) < 3 {
		return 0
	}
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss {
		x, y := float64(s.Cycles), float64(s.RSSKB)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	slope := (n*sxy - sx*sy) / den
	return int64(slope * float64(ss[len(ss)-1].Cycles-ss[0].Cycles))
}

func (r *soakReport) print(w io.Writer, asJSON bool) {
	if asJSON {
		json.NewEncoder(w).Encode(r)
		return
	}
	fmt.Fprintf(w, "%d cycles, %d of %d events delivered to %d listeners, %d errors, %.0f s\n",
		r.Cycles, r.Events, r.Expected, r.Listeners, r.Errors, r.ElapsedS)
	fmt.Fprintf(w, "resident memory: %d KiB after a tenth of the cycles, %d KiB at the end, fitted growth %d KiB\n",
		r.BaselineKB, r.FinalKB, r.GrowthKB)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	if r.Flagged != "" {
		fmt.Fprintf(w, "FLAGGED: %s\n", r.Flagged)
	} else {
		fmt.Fprintln(w, "flat: nothing flagged")
	}
}
