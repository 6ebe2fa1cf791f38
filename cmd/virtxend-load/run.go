package main

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

// result is one workload's figures.
type result struct {
	Workload    string  `json:"workload"`
	Conns       int     `json:"conns"`
	Ops         int     `json:"ops"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
	DaemonRSSKB int64   `json:"daemon_rss_kib,omitempty"`
	DaemonHWMKB int64   `json:"daemon_peak_rss_kib,omitempty"`
	// DaemonCPUus is the daemon's CPU time (user and system, all threads)
	// over the timed phase, per call: what the daemon spends on a call,
	// whatever the client spends decoding the reply.
	DaemonCPUus float64 `json:"daemon_cpu_us_per_call,omitempty"`

	// The figures of the untimed workloads (memory.go, ready.go).
	IdleRSSKB    int64   `json:"idle_rss_kib,omitempty"`
	IdleAnonKB   int64   `json:"idle_anon_rss_kib,omitempty"`
	Domains      int     `json:"domains,omitempty"`
	DefinedRSSKB int64   `json:"defined_rss_kib,omitempty"`
	PerDomainB   float64 `json:"rss_per_domain_bytes,omitempty"`
	ReadyMs      float64 `json:"start_to_ready_ms,omitempty"`
	Running      int     `json:"running,omitempty"`
	Recovered    int     `json:"recovered,omitempty"`
}

func connect(s settings) (*libvirt.Libvirt, error) {
	conn, err := net.DialTimeout("unix", s.socket, 5*time.Second)
	if err != nil {
		return nil, err
	}
	l := libvirt.NewWithDialer(dialers.NewAlreadyConnected(conn))
	if err := l.ConnectToURI(libvirt.ConnectURI(s.uri)); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.uri, err)
	}
	return l, nil
}

func run(s settings) ([]result, error) {
	pidTag = int64(os.Getpid())
	// The daemon as it was before this run made any connection: its idle
	// memory, if it was just started.
	sampleIdle(s.pid)
	// The control connection stays open for the whole run: libvirtd's test
	// driver forgets its domains when its last connection closes.
	ctl, err := connect(s)
	if err != nil {
		return nil, err
	}
	defer ctl.Disconnect()
	only := defaultWorkloads
	if s.only != "" {
		only = strings.Split(s.only, ",")
	}
	var out []result
	for _, w := range workloads {
		if !slices.Contains(only, w.name) {
			continue
		}
		if w.measure != nil {
			r, err := w.measure(ctl, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", w.name, err)
			}
			out = append(out, r)
			continue
		}
		if w.setup != nil {
			if err := w.setup(ctl, s); err != nil {
				return nil, fmt.Errorf("%s setup: %w", w.name, err)
			}
		}
		r, err := runWorkload(w, s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if w.name == "define-undefine" && s.durableDir != "" {
			// The disk's limit in the same run, right after, for the ratio.
			if r, err = runWorkload(durableLimit, s); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// runWorkload runs w on s.conns connections for s.duration.
func runWorkload(w workload, s settings) (result, error) {
	clients := make([]*libvirt.Libvirt, s.conns)
	for i := range clients {
		l, err := connect(s)
		if err != nil {
			return result{}, err
		}
		defer l.Disconnect()
		clients[i] = l
	}
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr string
	var wg sync.WaitGroup
	cpu0, err := daemonCPU(s.pid)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	deadline := start.Add(s.duration)
	interval := time.Duration(0)
	if s.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(s.conns) / s.rate)
	}
	for i, l := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var myErrs int
			var myFirst string
			due := start.Add(interval * time.Duration(i) / time.Duration(len(clients)))
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if interval > 0 {
					// Open loop: each call is due at a fixed time and its
					// latency counts from then, so a call made late by the
					// one before it counts the wait too.
					time.Sleep(time.Until(due))
					t0, due = due, due.Add(interval)
				}
				err := w.op(l, s, seqCounter.Add(1))
				mine = append(mine, time.Since(t0))
				if err != nil {
					if myErrs == 0 {
						myFirst = err.Error()
					}
					myErrs++
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += myErrs
			if firstErr == "" {
				firstErr = myFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := daemonCPU(s.pid)
	if err != nil {
		return result{}, err
	}
	r := summarize(w.name, s, lat, errs, firstErr, elapsed)
	if len(lat) > 0 {
		r.DaemonCPUus = float64((cpu1 - cpu0).Microseconds()) / float64(len(lat))
	}
	return r, nil
}

func summarize(name string, s settings, lat []time.Duration, errs int, firstErr string, elapsed time.Duration) result {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	r := result{Workload: name, Conns: s.conns, Ops: len(lat), Errors: errs, FirstError: firstErr,
		OpsPerSec: float64(len(lat)) / elapsed.Seconds(), P50us: pct(0.50), P90us: pct(0.90), P99us: pct(0.99), MaxUs: pct(1)}
	if s.pid > 0 {
		r.DaemonRSSKB, r.DaemonHWMKB = daemonMemory(s.pid)
	}
	return r
}
