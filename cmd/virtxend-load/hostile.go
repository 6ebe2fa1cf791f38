package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// hostileReport is a -hostile run: the well-behaved clients' lookups
// before, during and after the flood, the daemon's resident memory at each
// point, and what the flood sent.
type hostileReport struct {
	Before      result `json:"before"`
	During      result `json:"during"`
	After       result `json:"after"`
	RSSBeforeKB int64  `json:"rss_before_kib"`
	RSSPeakKB   int64  `json:"rss_peak_during_kib"`
	RSSEndKB    int64  `json:"rss_end_of_flood_kib"`
	RSSAfterKB  int64  `json:"rss_after_kib"`
	// RSSSettleKB is the resident memory each second of the settle.
	RSSSettleKB []int64     `json:"rss_each_second_after_kib"`
	Settle      string      `json:"settle"`
	Flood       floodReport `json:"flood"`
	FloodErr    string      `json:"flood_error,omitempty"`
}

// runHostile measures the lookups alone, then with a flood running in a
// second process (this binary with -flood-only), then alone again after
// s.settle, sampling the daemon's memory throughout.
func runHostile(s settings) (*hostileReport, error) {
	ctl, err := connect(s)
	if err != nil {
		return nil, err
	}
	defer ctl.Disconnect()
	lookup := workloadNamed("lookup")
	if err := lookup.setup(ctl, s); err != nil {
		return nil, err
	}
	mem := startSampler(s.pid)
	defer mem.stop()
	rep := &hostileReport{Settle: s.settle.String()}
	if rep.Before, err = runWorkload(lookup, s); err != nil {
		return nil, err
	}
	rep.RSSBeforeKB = mem.resetPeak()
	child, out, err := startFloodProcess(s)
	if err != nil {
		return nil, err
	}
	rep.During, err = runWorkload(lookup, s)
	if werr := child.Wait(); werr != nil {
		rep.FloodErr = werr.Error()
	}
	rep.RSSPeakKB, rep.RSSEndKB = mem.peakNow(), mem.resetPeak()
	if jerr := json.Unmarshal(out.Bytes(), &rep.Flood); jerr != nil && rep.FloodErr == "" {
		rep.FloodErr = fmt.Sprintf("flood report: %v: %q", jerr, out.String())
	}
	if err != nil {
		return nil, err
	}
	for end := time.Now().Add(s.settle); time.Now().Before(end); {
		time.Sleep(min(time.Second, time.Until(end)))
		rep.RSSSettleKB = append(rep.RSSSettleKB, mem.current())
	}
	if rep.After, err = runWorkload(lookup, s); err != nil {
		return nil, err
	}
	rep.RSSAfterKB = mem.current()
	return rep, nil
}

// startFloodProcess runs the flood for as long as one workload phase.
func startFloodProcess(s settings) (*exec.Cmd, *bytes.Buffer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"nice", "-n", strconv.Itoa(s.floodNice), self, "-flood-only", "-socket", s.socket,
		"-duration", s.duration.String(), "-flooders", strconv.Itoa(s.flooders), "-held", strconv.Itoa(s.held),
		"-flood", s.floodKinds}
	if s.floodCPUs != "" {
		args = append([]string{"taskset", "-c", s.floodCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	return cmd, out, cmd.Start()
}

func workloadNamed(name string) workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	panic("no workload " + name)
}

// sampler reads the daemon's resident memory every 20 ms, keeping the peak.
type sampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
	last int64
	done chan struct{}
}

func startSampler(pid int) *sampler {
	m := &sampler{pid: pid, done: make(chan struct{})}
	m.sample()
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *sampler) sample() {
	rss, _ := daemonMemory(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = rss
	m.peak = max(m.peak, rss)
}

func (m *sampler) stop() { close(m.done) }

// resetPeak samples now, starts a new peak there and returns the sample.
func (m *sampler) resetPeak() int64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peak = m.last
	return m.last
}

func (m *sampler) peakNow() int64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

func (m *sampler) current() int64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func (r *hostileReport) print(w io.Writer, asJSON bool) {
	if asJSON {
		json.NewEncoder(w).Encode(r)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "lookups\tops/s\terrors\tp50 µs\tp99 µs\tmax µs\tdaemon CPU %\tdaemon RSS KiB\t")
	row := func(name string, x result, rss string) {
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t\n", name, x.OpsPerSec, x.Errors, x.P50us, x.P99us, x.MaxUs, x.daemonCPUShare()*100, rss)
	}
	row("before the flood", r.Before, strconv.FormatInt(r.RSSBeforeKB, 10))
	row("during", r.During, fmt.Sprintf("peak %d, at its end %d", r.RSSPeakKB, r.RSSEndKB))
	row("after "+r.Settle, r.After, strconv.FormatInt(r.RSSAfterKB, 10))
	tw.Flush()
	fmt.Fprintf(w, "daemon RSS KiB each second after the flood: %v\n", r.RSSSettleKB)
	if r.Before.P99us > 0 {
		fmt.Fprintf(w, "p99 during / before: %.2f; p50: %.2f\n", r.During.P99us/r.Before.P99us, r.During.P50us/r.Before.P50us)
		// Both phases without a flood: how far a p99 moves on this
		// machine by itself, which bounds what "during / before" can say.
		fmt.Fprintf(w, "p99 after / before (no flood in either): %.2f\n", r.After.P99us/r.Before.P99us)
	}
	fmt.Fprintf(w, "flood:\n%s", r.Flood)
	if r.FloodErr != "" {
		fmt.Fprintln(w, "flood error:", r.FloodErr)
	}
}
