package process

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// slowGuest takes 3 s for every operation on it (the simulator's delay fault).
const slowGuest = `<domain type='xen'>
  <name>slow</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
  <metadata><sim:fault xmlns:sim="urn:virtxend:sim" delay="3s"/></metadata>
</domain>
`

// TestStopLetsCallsInFlightFinish: SIGTERM during a call stops accepting
// but lets the call finish and its reply reach the client; the daemon then
// exits 0 and the guest the call started keeps running.
func TestStopLetsCallsInFlightFinish(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	l := d.GoLibvirt(paths.RWSocketName) // no keepalive: its only calls are ours
	dom, err := l.DomainDefineXML(slowGuest)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.DomainCreate(dom) }()
	waitForBusyWorker(t, d)
	d.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatalf("the call in flight at SIGTERM failed: %v", err)
	}
	if code := d.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if daemontest.Serves(d.Paths.SocketDir() + "/" + paths.RWSocketName) {
		t.Fatal("still serving after exit")
	}
	d2 := daemontest.Start(t, root)
	if state := d2.DomState("slow"); state != "running (booted)" {
		t.Errorf("guest %q after the restart, want running (booted)", state)
	}
	d2.Stop()
}

// waitForBusyWorker waits until a worker of the main server is running a
// call, as virt-admin's srv-threadpool-info shows.
func waitForBusyWorker(t *testing.T, d *daemontest.Daemon) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		info := adminFields(t, d, "srv-threadpool-info", "virtxend")
		n, _ := strconv.Atoi(info["nWorkers"])
		free, _ := strconv.Atoi(info["freeWorkers"])
		if free < n {
			return
		}
	}
	t.Fatal("the call never reached a worker")
}
