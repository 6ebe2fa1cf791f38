package drivertests

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/paths"
	"virtxend/internal/store"
	"virtxend/test/daemontest"
)

// outcome is what a domain name should look like after the crash: absent,
// or defined with a given memory size (KiB).
type outcome struct {
	defined bool
	memKiB  uint
}

func (o outcome) String() string {
	if !o.defined {
		return "absent"
	}
	return fmt.Sprintf("defined with %d KiB", o.memKiB)
}

// ledger records, per name, the last acknowledged outcome and the one an
// operation in flight (never acknowledged) would have produced.
type ledger struct {
	mu       sync.Mutex
	acked    map[string]outcome
	inFlight map[string]outcome
	count    atomic.Int64
}

func (l *ledger) begin(name string, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight[name] = o
}

func (l *ledger) ack(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[name] = l.inFlight[name]
	delete(l.inFlight, name)
	l.count.Add(1)
}

// acceptable reports whether found is what an acknowledged (or in-flight)
// operation on name allows.
func (l *ledger) acceptable(name string, found outcome) bool {
	acked := l.acked[name] // zero value: absent, as before any define
	pending, inFlight := l.inFlight[name]
	return found == acked || (inFlight && found == pending)
}

func newLedger() *ledger {
	return &ledger{acked: map[string]outcome{}, inFlight: map[string]outcome{}}
}

// killDuring runs work on clients go-libvirt connections at once and
// SIGKILLs the daemon once minOps operations were acknowledged (or bound
// passed); it returns when the daemon and every client have stopped.
func killDuring(t *testing.T, d *daemontest.Daemon, clients int, minOps int64, l *ledger,
	work func(conn *libvirt.Libvirt, c int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var running atomic.Int32
	errs := make([]error, clients)
	for c := 0; c < clients; c++ {
		conn := d.GoLibvirt(paths.RWSocketName)
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			errs[c] = work(conn, c)
		}()
	}
	// The clients run until their connection fails, so every way out of
	// this wait goes through the kill: waiting for them first hung the
	// package until go test's timeout when a loaded CI machine's fsyncs
	// made fewer than minOps operations in bound. Too few operations
	// still test the crash; a client that stopped before it fails the test.
	early := false
	for deadline := time.Now().Add(bound); l.count.Load() < minOps && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if early = running.Load() < int32(clients); early {
			break
		}
	}
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	// A call whose connection died must fail at once; a client still
	// blocked after the kill is a hang to name, not to wait out.
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(bound):
		t.Fatalf("go-libvirt clients still blocked %v after the daemon was killed", bound)
	}
	if early {
		t.Fatalf("clients stopped before the kill after %d operations: %v", l.count.Load(), errs)
	}
	t.Logf("%d operations acknowledged before the kill; clients ended with %v", l.count.Load(), errs)
}

// TestKill9DuringConcurrentDefines runs four go-libvirt clients that define,
// redefine and undefine distinct domains, kills the daemon with SIGKILL in
// the middle, and checks that no acknowledged operation was lost and no
// config file was left half-written.
func TestKill9DuringConcurrentDefines(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	l := newLedger()
	killDuring(t, d, 4, 150, l, func(conn *libvirt.Libvirt, c int) error { return churn(conn, c, l, nil) })

	// Straight after the crash, before anything cleans up: every config
	// file present is complete (temporary files may remain, never a
	// truncated NAME.xml).
	onDisk := checkConfigDir(t, d.Paths.DomainConfigDir(), true)

	d2 := daemontest.Start(t, root)
	listed := listAll(t, d2)
	delete(listed, "Domain-0")
	names := map[string]bool{}
	for n := range l.acked {
		names[n] = true
	}
	for n := range l.inFlight {
		names[n] = true
	}
	for n := range onDisk {
		names[n] = true
	}
	for n := range names {
		found := onDisk[n]
		if !l.acceptable(n, found) {
			t.Errorf("%s: %v on disk, acknowledged %v (in flight %v)", n, found, l.acked[n], l.inFlight[n])
		}
		if listed[n] != found.defined {
			t.Errorf("%s: listed by the daemon %v, config on disk %v", n, listed[n], found.defined)
		}
	}
	if len(listed) != countDefined(onDisk) {
		t.Errorf("daemon lists %d domains, %d configs on disk", len(listed), countDefined(onDisk))
	}
	checkConfigDir(t, d2.Paths.DomainConfigDir(), false)
	checkNoTemp(t, d2.Paths.AutostartDir())
	checkNoTemp(t, d2.Paths.StateDir())
	if code := d2.Stop(); code != 0 {
		t.Errorf("restarted daemon exit %d", code)
	}
}

// churn is one client's stream: define a new name, redefine it with more
// memory, and undefine two of every three, until the connection fails or
// stop is closed.
func churn(conn *libvirt.Libvirt, c int, l *ledger, stop <-chan struct{}) error {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		name := fmt.Sprintf("c%d-%d", c, i)
		l.begin(name, outcome{true, 128 * 1024})
		dom, err := conn.DomainDefineXML(guestXML(name, ""))
		if err != nil {
			return err
		}
		l.ack(name)
		l.begin(name, outcome{true, 192 * 1024})
		// The same domain (by uuid) with more memory: DEFINED/UPDATED.
		// (Replace the memory element, not the first "128": names reach c0-128.)
		redef := strings.Replace(guestXML(name, "<uuid>"+uuidString(dom.UUID)+"</uuid>"),
			"<memory unit='MiB'>128</memory>", "<memory unit='MiB'>192</memory>", 1)
		if _, err := conn.DomainDefineXML(redef); err != nil {
			return err
		}
		l.ack(name)
		if i%3 == 0 {
			continue
		}
		l.begin(name, outcome{})
		if err := conn.DomainUndefineFlags(dom, 0); err != nil {
			return err
		}
		l.ack(name)
	}
}

// checkConfigDir lists the persistent config directory: every NAME.xml
// parses and holds domain NAME; temporary files are allowed only when
// tempOK (straight after a crash). It returns what each file defines.
func checkConfigDir(t *testing.T, dir string, tempOK bool) map[string]outcome {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]outcome{}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == "autostart" && e.IsDir():
		case store.IsTemp(name):
			if !tempOK {
				t.Errorf("temporary file %s left in %s", name, dir)
			}
		case strings.HasSuffix(name, ".xml"):
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			var def libvirtxml.Domain
			if err := xml.Unmarshal(b, &def); err != nil {
				t.Errorf("%s does not parse (%v):\n%s", name, err, b)
				continue
			}
			want := strings.TrimSuffix(name, ".xml")
			if def.Name != want || def.Memory == nil {
				t.Errorf("%s holds domain %q, memory %v", name, def.Name, def.Memory)
				continue
			}
			found[want] = outcome{true, memKiB(def.Memory)}
		default:
			t.Errorf("unexpected file %s in %s", name, dir)
		}
	}
	return found
}

func uuidString(u libvirt.UUID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func memKiB(m *libvirtxml.DomainMemory) uint {
	switch m.Unit {
	case "", "KiB", "k":
		return m.Value
	case "MiB", "M":
		return m.Value * 1024
	}
	return 0
}

func countDefined(m map[string]outcome) int {
	n := 0
	for _, o := range m {
		if o.defined {
			n++
		}
	}
	return n
}

func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if store.IsTemp(e.Name()) {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}
