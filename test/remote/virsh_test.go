package remote

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

func TestVirshHostCommands(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	if out := d.MustVirsh("version"); !strings.Contains(out, "Running hypervisor: Xen 4.17.0") {
		t.Errorf("version:\n%s", out)
	}
	if out := strings.TrimSpace(d.MustVirsh("uri")); out != d.URI() {
		t.Errorf("uri %q", out)
	}
	if out := d.MustVirsh("nodeinfo"); !strings.Contains(out, "CPU(s):              4") {
		t.Errorf("nodeinfo:\n%s", out)
	}
	for _, c := range []struct{ cmd, want string }{
		{"hostname", ""}, {"capabilities", "<os_type>xen</os_type>"},
		{"domcapabilities", "<domain>xen</domain>"}, {"freecell", "KiB"},
	} {
		if out := d.MustVirsh(c.cmd); !strings.Contains(out, c.want) {
			t.Errorf("%s:\n%s", c.cmd, out)
		}
	}
	if out := d.MustVirsh("list", "--all"); !strings.Contains(out, "Domain-0") {
		t.Errorf("list --all lacks Domain-0:\n%s", out)
	}
}

func TestVirshLifecycle(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	events := startEventLoop(t, d)
	xml := guestFile(t, "g1", pvXML("g1"))
	d.MustVirsh("define", xml)
	if out := d.MustVirsh("domstate", "g1"); strings.TrimSpace(out) != "shut off" {
		t.Errorf("domstate after define: %q", out)
	}
	dumped := d.MustVirsh("dumpxml", "g1")
	for _, want := range []string{"<name>g1</name>", "<memory unit='KiB'>262144</memory>",
		"<vcpu placement='static' current='1'>2</vcpu>", "<kernel>/boot/vmlinuz</kernel>", "<target type='xen' port='0'/>"} {
		if !strings.Contains(dumped, want) {
			t.Errorf("dumpxml lacks %q:\n%s", want, dumped)
		}
	}
	// Round trip: the dumped XML defines to the same XML.
	d.MustVirsh("define", guestFile(t, "again", dumped))
	if again := d.MustVirsh("dumpxml", "g1"); again != dumped {
		t.Errorf("dumpxml changed after a round trip:\n%s\nvs\n%s", dumped, again)
	}
	d.MustVirsh("autostart", "g1")
	if out := d.MustVirsh("dominfo", "g1"); !strings.Contains(out, "Autostart:      enable") {
		t.Errorf("dominfo after autostart:\n%s", out)
	}
	d.MustVirsh("start", "g1")
	d.MustVirsh("setmem", "g1", "200M", "--live")
	d.MustVirsh("setvcpus", "g1", "2", "--live")
	info := d.MustVirsh("dominfo", "g1")
	for _, want := range []string{"State:          running", "Used memory:    204800 KiB", "CPU(s):         2"} {
		if !strings.Contains(info, want) {
			t.Errorf("dominfo lacks %q:\n%s", want, info)
		}
	}
	d.MustVirsh("desc", "g1", "--live", "--config", "a guest")
	d.MustVirsh("metadata", "g1", "http://example.org/m/", "--key", "m", "--set", "<m>1</m>", "--config")
	if out := d.MustVirsh("metadata", "g1", "http://example.org/m/", "--config"); !strings.Contains(out, "<m>1</m>") {
		t.Errorf("metadata after set: %q", out)
	}
	if out := d.MustVirsh("desc", "g1"); strings.TrimSpace(out) != "a guest" {
		t.Errorf("desc after set: %q", out)
	}
	d.MustVirsh("suspend", "g1")
	d.MustVirsh("resume", "g1")
	d.MustVirsh("reboot", "g1")
	d.MustVirsh("shutdown", "g1")
	d.WaitState("g1", "shut off (shutdown)")
	d.MustVirsh("start", "g1")
	d.MustVirsh("destroy", "g1")
	d.MustVirsh("create", guestFile(t, "t1", pvXML("t1")))
	d.MustVirsh("destroy", "t1")
	d.MustVirsh("undefine", "g1")
	for _, want := range []string{
		"'g1': Defined Added", "'g1': Defined Updated", "'g1': Started Booted", "'g1': Suspended Paused",
		"'g1': Resumed Unpaused", "'g1': Stopped Shutdown", "'g1': Stopped Destroyed", "'t1': Started Booted",
		"'t1': Stopped Destroyed", "'g1': Undefined Removed",
		"event 'metadata-change' for domain 'g1': type description, uri <null>",
		"event 'metadata-change' for domain 'g1': type element, uri http://example.org/m/",
	} {
		events.waitFor(t, want)
	}
}

// eventLoop is a background `virsh event --all --loop`.
type eventLoop struct {
	cmd *exec.Cmd
	out *daemontest.SyncBuffer
}

func startEventLoop(t *testing.T, d *daemontest.Daemon) *eventLoop {
	t.Helper()
	if _, err := exec.LookPath("virsh"); err != nil {
		t.Skip("virsh is not installed")
	}
	e := &eventLoop{out: &daemontest.SyncBuffer{}}
	e.cmd = exec.Command("virsh", "-c", d.URI(), "event", "--all", "--loop")
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cmd.Process.Signal(syscall.SIGINT); e.cmd.Wait() })
	// Registration is done once the daemon has the client's 27 callbacks;
	// a define of a throwaway domain proves the loop is listening.
	probe := guestFile(t, "probe", pvXML("probe"))
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(e.out.String(), "'probe'"); {
		if time.Now().After(deadline) {
			t.Fatalf("the event loop never saw an event:\n%s", e.out.String())
		}
		d.Virsh("define", probe)
		d.Virsh("undefine", "probe")
		time.Sleep(100 * time.Millisecond)
	}
	return e
}

func (e *eventLoop) waitFor(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(e.out.String(), s) {
			return
		}
	}
	t.Errorf("event %q never seen; the loop printed:\n%s", s, e.out.String())
}

// TestVirshNodememstats: virsh nodememstats, which libvirt's Xen driver
// does not serve, gives Xen's memory (what freecell and nodeinfo give),
// with libvirt's four figures of a whole host; the host is one cell;
// libvirt's errors for another cell and a wrong count.
func TestVirshNodememstats(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	free := strings.Fields(d.MustVirsh("freecell"))
	total := strings.Fields(d.MustVirsh("nodeinfo"))
	for _, args := range [][]string{{"nodememstats"}, {"nodememstats", "--cell", "0"}} {
		out := d.MustVirsh(args...)
		fields := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				fields[strings.TrimSpace(k)] = strings.Fields(v)[0]
			}
		}
		if fields["free"] != free[1] || fields["buffers"] != "0" || fields["cached"] != "0" || !slices.Contains(total, fields["total"]) {
			t.Errorf("virsh %v:\n%s\nfreecell %v, nodeinfo %v", args, out, free, total)
		}
	}
	if r := d.Virsh("nodememstats", "--cell", "1"); r.Code == 0 || !strings.Contains(r.Stderr, "error: cellNum in virHostMemGetStats must be less than or equal to 0") {
		t.Errorf("cell 1: %d %q", r.Code, r.Stderr)
	}
	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
s = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
print(sorted(s), s["total"] >= s["free"] > 0)
`)
	if got := strings.TrimSpace(r.Stdout); got != "['buffers', 'cached', 'free', 'total'] True" {
		t.Errorf("libvirt-python's getMemoryStats: %q %s", got, r.Stderr)
	}
	ro := daemontest.Run(t, "virsh", "-c", d.ROURI(), "nodememstats")
	if ro.Code != 0 || !strings.Contains(ro.Stdout, "total") {
		t.Errorf("read-only nodememstats: %+v", ro)
	}
}
