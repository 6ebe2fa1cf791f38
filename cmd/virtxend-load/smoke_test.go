package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// TestSmoke runs the workloads the issue 19 figures come from with tiny
// counts against the real daemon on the simulated host: memory, lookup,
// cold dumpxml and list-all; then a restart timed to READY=1 with running
// guests to recover; then a soak of a few cycles. It checks that each
// works and counts what it should, never how fast.
func TestSmoke(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	s := settings{
		socket: filepath.Join(d.Paths.SocketDir(), paths.RWSocketName), uri: "xen:///system", domType: "xen",
		conns: 1, duration: 200 * time.Millisecond, domains: 20, pid: d.Cmd.Process.Pid,
		only: "memory,lookup,cold-dumpxml,list-all",
	}
	results, err := run(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 {
		t.Fatalf("%d results: %+v", len(results), results)
	}
	for _, r := range results {
		if r.Errors != 0 || (!r.untimed() && r.Ops == 0) {
			t.Errorf("%s: %+v", r.Workload, r)
		}
	}
	if m := results[0]; m.Workload != "memory" || m.IdleRSSKB == 0 || m.IdleAnonKB == 0 || m.DefinedRSSKB == 0 || m.Domains < 20 {
		t.Errorf("memory: %+v", m)
	}

	if err := startRunning(s, 3); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	r, err := runReady(s, readySettings{command: []string{"env", paths.RootEnv + "=" + root, daemontest.Binary(t)},
		log: filepath.Join(t.TempDir(), "log"), expectRunning: 3, timeout: time.Minute})
	pid := pidOf(t, d.Paths.PidFile())
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err != nil {
		t.Fatal(err)
	}
	if r.Recovered != 3 || r.Errors != 0 || r.ReadyMs <= 0 || r.Domains < 21 {
		t.Errorf("start-ready: %+v", r)
	}

	s.pid = pid
	rep, err := runSoak(s, soakSettings{cycles: 10, events: 80, max: time.Minute, interval: 100 * time.Millisecond}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cycles != 10 || rep.Errors != 0 || rep.Listeners != 2 || rep.Events < rep.Expected || rep.Expected != 80 {
		t.Errorf("soak: %+v", rep)
	}
}

func pidOf(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
