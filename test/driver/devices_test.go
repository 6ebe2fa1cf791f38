package drivertests

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// Device hotplug through the built daemon on the simulated host, with
// stock virsh, as a user types it, and the device events as
// libvirt-python receives them.

const pvDiskNIC = `<devices>
  <disk type='file' device='disk'><source file='/var/lib/xen/a.img'/><target dev='xvda'/></disk>
  <interface type='bridge'><mac address='00:16:3e:d0:00:01'/><source bridge='xenbr0'/></interface>
</devices>`

// hvmGuestXML is an HVM guest with a disk and a cdrom.
func hvmGuestXML(name string) string {
	return `<domain type='xen'>
  <name>` + name + `</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/xen/h.img'/><target dev='hda'/></disk>
    <disk type='file' device='cdrom'><source file='/var/lib/xen/one.iso'/><target dev='hdc'/></disk>
  </devices>
</domain>
`
}

// table is a virsh table's rows (virsh -q prints no header), as fields.
func table(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func blklist(t *testing.T, d *daemontest.Daemon, args ...string) string {
	t.Helper()
	var b []string
	for _, r := range table(d.MustVirsh(append([]string{"domblklist"}, args...)...)) {
		b = append(b, strings.Join(r, "="))
	}
	return strings.Join(b, " ")
}

// deviceEvents runs libvirt-python with callbacks for the three device
// events; lines() are what it printed, "ADDED g net1" and the like.
type deviceEvents struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	seen  []string
	ready chan struct{}
	done  chan struct{}
}

const deviceEventScript = `
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
def cb(what):
    def f(conn, dom, alias, opaque):
        print("%s %s %s" % (what, dom.name(), alias), flush=True)
    return f
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, cb("ADDED"), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, cb("REMOVED"), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, cb("FAILED"), None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
print("READY", flush=True)
sys.stdin.read()
conn.close()
`

func watchDeviceEvents(t *testing.T, d *daemontest.Daemon) *deviceEvents {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import libvirt").CombinedOutput(); err != nil {
		t.Skipf("python3-libvirt is not installed: %s", out)
	}
	w := &deviceEvents{ready: make(chan struct{}), done: make(chan struct{})}
	w.cmd = exec.Command("/usr/bin/python3", "-c", deviceEventScript, d.URI())
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = os.Stderr
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				close(w.ready)
				continue
			}
			w.mu.Lock()
			w.seen = append(w.seen, sc.Text())
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		w.stdin.Close()
		select {
		case <-w.done:
		case <-time.After(bound):
			w.cmd.Process.Kill()
		}
		w.cmd.Wait()
	})
	select {
	case <-w.ready:
	case <-w.done:
		t.Fatal("device event watcher ended before registering")
	case <-time.After(bound):
		t.Fatal("device event watcher did not register")
	}
	return w
}

// wait polls until line was printed.
func (w *deviceEvents) wait(t *testing.T, line string) {
	t.Helper()
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		seen := strings.Join(w.seen, "\n")
		w.mu.Unlock()
		if strings.Contains("\n"+seen+"\n", "\n"+line+"\n") {
			return
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Fatalf("no event %q; events: %q", line, w.seen)
}

// TestVirshDisks: attach-disk --live --config, domblklist of both views,
// detach-disk, the refused cases with libvirt's words; what was attached
// is still there after a daemon restart and after a kill -9; the device
// events reach libvirt-python.
func TestVirshDisks(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	defineStart(t, d, "dk", guestXML("dk", pvDiskNIC))
	ev := watchDeviceEvents(t, d)

	d.MustVirsh("attach-disk", "dk", "/var/lib/xen/b.img", "xvdb", "--live", "--config")
	ev.wait(t, "ADDED dk xen-disk1")
	want := "xvda=/var/lib/xen/a.img xvdb=/var/lib/xen/b.img"
	if got := blklist(t, d, "dk"); got != want {
		t.Fatalf("domblklist: %s, want %s", got, want)
	}
	if got := blklist(t, d, "dk", "--inactive"); got != want {
		t.Fatalf("domblklist --inactive: %s, want %s", got, want)
	}
	d.MustVirsh("attach-disk", "dk", "/var/lib/xen/c.img", "xvdc", "--live")
	d.MustVirsh("attach-disk", "dk", "/var/lib/xen/e.img", "xvde", "--config")

	// Refused, in libvirt's words.
	for _, c := range []struct{ args, want string }{
		{"attach-disk dk /var/lib/xen/s.img sdb --live", "error: unsupported configuration: disk bus 'scsi' cannot be hotplugged."},
		{"attach-disk dk /var/lib/xen/f.img fda --type floppy --live", "error: unsupported configuration: disk device type 'floppy' cannot be hotplugged"},
		{"attach-disk dk /var/lib/xen/x.img xvdb --live", "error: operation failed: target xvdb already exists"},
		{"attach-disk dk /var/lib/xen/x.img xvdb --config", "error: invalid argument: target xvdb already exists."},
	} {
		r := d.Virsh(strings.Fields(c.args)...)
		if c.want != "" && (r.Code == 0 || !strings.Contains(r.Stderr, c.want)) {
			t.Errorf("virsh %s: %d %q, want %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	gone := daemontest.WriteFile(t, t.TempDir(), "gone.xml", `<disk type='file' device='disk'><target dev='xvdq' bus='xen'/></disk>`)
	if r := d.Virsh("detach-device", "dk", gone, "--live"); !strings.Contains(r.Stderr, "error: operation failed: disk xvdq not found") {
		t.Errorf("detach of a disk that is not there: %q", r.Stderr)
	}
	if r := d.Virsh("detach-device", "dk", gone, "--config"); !strings.Contains(r.Stderr, "error: invalid argument: no target device xvdq") {
		t.Errorf("detach from the config of a disk that is not there: %q", r.Stderr)
	}

	// A restart, then a kill -9: live and persistent views are kept.
	d.Stop()
	d = daemontest.Start(t, root)
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	d = daemontest.Start(t, root)
	if got := blklist(t, d, "dk"); got != "xvda=/var/lib/xen/a.img xvdb=/var/lib/xen/b.img xvdc=/var/lib/xen/c.img" {
		t.Fatalf("domblklist after restarts: %s", got)
	}
	if got := blklist(t, d, "dk", "--inactive"); got != "xvda=/var/lib/xen/a.img xvdb=/var/lib/xen/b.img xvde=/var/lib/xen/e.img" {
		t.Fatalf("domblklist --inactive after restarts: %s", got)
	}
	ev = watchDeviceEvents(t, d)
	d.MustVirsh("detach-disk", "dk", "xvdb", "--live", "--config")
	ev.wait(t, "REMOVED dk xen-disk1")
	d.MustVirsh("detach-disk", "dk", "xvdc")
	ev.wait(t, "REMOVED dk xen-disk2")
	if got := blklist(t, d, "dk"); got != "xvda=/var/lib/xen/a.img" {
		t.Fatalf("domblklist after the detaches: %s", got)
	}
	if got := blklist(t, d, "dk", "--inactive"); got != "xvda=/var/lib/xen/a.img xvde=/var/lib/xen/e.img" {
		t.Fatalf("domblklist --inactive after the detaches: %s", got)
	}
	// The next boot has the persistent disks.
	d.MustVirsh("destroy", "dk")
	d.MustVirsh("start", "dk")
	if got := blklist(t, d, "dk"); got != "xvda=/var/lib/xen/a.img xvde=/var/lib/xen/e.img" {
		t.Fatalf("domblklist after a new boot: %s", got)
	}
}

// TestVirshDetachNotAcknowledged: a guest that never lets a disk go
// (sim:fault detach="ignore") keeps it: detach-disk fails after libxl's
// timeout with libvirt's error, the disk stays in the live XML and in the
// guest, and DEVICE_REMOVAL_FAILED names it.
func TestVirshDetachNotAcknowledged(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	defineStart(t, d, "deaf", guestXML("deaf", pvDiskNIC+faults(`detach="ignore"`)))
	ev := watchDeviceEvents(t, d)
	d.MustVirsh("attach-disk", "deaf", "/var/lib/xen/b.img", "xvdb", "--live", "--config")
	start := time.Now()
	r := d.Virsh("detach-disk", "deaf", "xvdb", "--live", "--config")
	if r.Code == 0 || !strings.Contains(r.Stderr, "error: internal error: libxenlight failed to detach disk 'xvdb'") {
		t.Fatalf("detach the guest ignores: %d %q", r.Code, r.Stderr)
	}
	if took := time.Since(start); took < 9*time.Second {
		t.Errorf("failed after %v, before libxl's 10 s", took)
	}
	ev.wait(t, "FAILED deaf xen-disk1")
	want := "xvda=/var/lib/xen/a.img xvdb=/var/lib/xen/b.img"
	if got := blklist(t, d, "deaf"); got != want {
		t.Fatalf("domblklist: %s, want %s", got, want)
	}
	// The persistent definition is unchanged too: the live detach failed.
	if got := blklist(t, d, "deaf", "--inactive"); got != want {
		t.Fatalf("domblklist --inactive: %s, want %s", got, want)
	}
	if cfg := guestConfig(t, d, "deaf"); len(cfg.Disks) != 2 {
		t.Fatalf("the guest lost the disk: %+v", cfg)
	}
}

var vifName = regexp.MustCompile(`^vif(\d+)\.(\d+)$`)

// TestVirshInterfaces: domiflist names each interface's backend vifID.N,
// from the start and after attach-interface of a bridge and a network
// interface (libvirtd beside gives the network's port); detach-interface
// removes them, the network's port with it.
func TestVirshInterfaces(t *testing.T) {
	t.Parallel()
	d, l := daemontest.StartWithLibvirtd(t)
	id := defineStart(t, d, "nic", guestXML("nic", pvDiskNIC))
	d.MustVirsh("attach-interface", "nic", "--type", "bridge", "--source", "xenbr0",
		"--mac", "00:16:3e:d0:00:02", "--live", "--config")
	d.MustVirsh("attach-interface", "nic", "--type", "network", "--source", "default",
		"--mac", "00:16:3e:d0:00:03", "--live")
	rows := table(d.MustVirsh("domiflist", "nic"))
	want := [][]string{
		{fmt.Sprintf("vif%d.0", id), "bridge", "xenbr0", "-", "00:16:3e:d0:00:01"},
		{fmt.Sprintf("vif%d.1", id), "bridge", "xenbr0", "-", "00:16:3e:d0:00:02"},
		{fmt.Sprintf("vif%d.2", id), "network", "default", "-", "00:16:3e:d0:00:03"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("domiflist:\n%v\nwant\n%v", rows, want)
	}
	if out := l.Virsh("network", "net-port-list", "default").Stdout; strings.TrimSpace(out) == "" {
		t.Fatal("no port on the default network")
	}
	inactive := table(d.MustVirsh("domiflist", "nic", "--inactive"))
	if len(inactive) != 2 || inactive[0][0] != "-" || inactive[1][4] != "00:16:3e:d0:00:02" {
		t.Fatalf("domiflist --inactive: %v", inactive)
	}
	if r := d.Virsh("attach-interface", "nic", "--type", "bridge", "--source", "xenbr0", "--mac", "00:16:3e:d0:00:02", "--live"); !strings.Contains(r.Stderr,
		"error: invalid argument: network device with mac 00:16:3e:d0:00:02 already exists") {
		t.Errorf("a MAC twice: %q", r.Stderr)
	}
	if r := d.Virsh("attach-interface", "nic", "--type", "bridge", "--source", "xenbr0", "--model", "e1000", "--live"); !strings.Contains(r.Stderr,
		"error: unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains") {
		t.Errorf("e1000 on a PV guest: %q", r.Stderr)
	}
	d.MustVirsh("detach-interface", "nic", "--type", "network", "--mac", "00:16:3e:d0:00:03", "--live")
	if out := l.Virsh("network", "net-port-list", "default").Stdout; strings.TrimSpace(out) != "" {
		t.Fatalf("the detached interface's port stayed: %q", out)
	}
	d.MustVirsh("detach-interface", "nic", "--type", "bridge", "--mac", "00:16:3e:d0:00:02", "--live", "--config")
	rows = table(d.MustVirsh("domiflist", "nic"))
	if len(rows) != 1 || !vifName.MatchString(rows[0][0]) || len(table(d.MustVirsh("domiflist", "nic", "--inactive"))) != 1 {
		t.Fatalf("domiflist after the detaches: %v", rows)
	}
	if cfg := guestConfig(t, d, "nic"); len(cfg.NICs) != 1 {
		t.Fatalf("the guest's NICs: %+v", cfg.NICs)
	}
}

// TestVirshMediaAndUSB: on an HVM guest, change-media (update-device)
// changes and ejects the cdrom's media; update-device of a hard disk is
// refused; attach-device of a USB host device named by bus and device
// (the simulated host has no USB devices: the address stands in) plugs it
// and a USB controller for it.
func TestVirshMediaAndUSB(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	defineStart(t, d, "hv", hvmGuestXML("hv"))
	d.MustVirsh("change-media", "hv", "hdc", "/var/lib/xen/two.iso", "--update", "--live", "--config")
	want := "hda=/var/lib/xen/h.img hdc=/var/lib/xen/two.iso"
	if got := blklist(t, d, "hv"); got != want {
		t.Fatalf("domblklist: %s, want %s", got, want)
	}
	if got := blklist(t, d, "hv", "--inactive"); got != want {
		t.Fatalf("domblklist --inactive: %s, want %s", got, want)
	}
	d.MustVirsh("change-media", "hv", "hdc", "--eject", "--live")
	if got := blklist(t, d, "hv"); got != "hda=/var/lib/xen/h.img hdc=-" {
		t.Fatalf("domblklist after the eject: %s", got)
	}
	cd := daemontest.WriteFile(t, t.TempDir(), "cd.xml",
		`<disk type='file' device='cdrom'><source file='/var/lib/xen/three.iso'/><target dev='hdc' bus='ide'/></disk>`)
	d.MustVirsh("update-device", "hv", cd)
	if got := blklist(t, d, "hv"); got != "hda=/var/lib/xen/h.img hdc=/var/lib/xen/three.iso" {
		t.Fatalf("domblklist after update-device: %s", got)
	}
	hd := daemontest.WriteFile(t, t.TempDir(), "hd.xml",
		`<disk type='file' device='disk'><source file='/var/lib/xen/x.img'/><target dev='hda' bus='ide'/></disk>`)
	if r := d.Virsh("update-device", "hv", hd); !strings.Contains(r.Stderr, "error: unsupported configuration: disk bus 'ide' cannot be updated.") {
		t.Errorf("update of a hard disk: %q", r.Stderr)
	}
	if r := d.Virsh("update-device", "hv", cd, "--force"); !strings.Contains(r.Stderr, "unsupported flags (0x4) in function libxlDomainUpdateDeviceFlags") {
		t.Errorf("update-device --force: %q", r.Stderr)
	}

	usb := daemontest.WriteFile(t, t.TempDir(), "usb.xml",
		`<hostdev mode='subsystem' type='usb'><source><address bus='1' device='4'/></source></hostdev>`)
	d.MustVirsh("attach-device", "hv", usb)
	live := d.MustVirsh("dumpxml", "hv")
	for _, w := range []string{"<controller type='usb' index='0' model='qusb2' ports='8'>", "<address bus='1' device='4'/>", "<alias name='hostdev0'/>"} {
		if !strings.Contains(live, w) {
			t.Fatalf("live XML lacks %q:\n%s", w, live)
		}
	}
	if cfg := guestConfig(t, d, "hv"); len(cfg.Disks) != 2 {
		t.Fatalf("guest config %+v", cfg)
	}
	if r := d.Virsh("attach-device", "hv", usb, "--config"); !strings.Contains(r.Stderr, "error: unsupported configuration: persistent attach of device is not supported") {
		t.Errorf("USB host device to the config: %q", r.Stderr)
	}
	d.MustVirsh("detach-device", "hv", usb)
	if strings.Contains(d.MustVirsh("dumpxml", "hv"), "<hostdev") {
		t.Fatal("the USB device stayed")
	}
	video := daemontest.WriteFile(t, t.TempDir(), "video.xml", `<video><model type='vga'/></video>`)
	if r := d.Virsh("attach-device", "hv", video); !strings.Contains(r.Stderr, "error: unsupported configuration: device type 'video' cannot be attached") {
		t.Errorf("attach of a video: %q", r.Stderr)
	}
}

// TestVirshDetachDeviceAlias: virsh detach-device-alias, which libvirt's
// Xen driver does not serve, as libvirt's QEMU driver: a live disk and a
// live interface by the aliases the live XML shows (xen-disk1, net0), with
// DEVICE_REMOVED; a disk of a user alias from both definitions (the
// persistent one keeps only user aliases); libvirt's errors.
func TestVirshDetachDeviceAlias(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "da", guestXML("da", pvDiskNIC))
	ev := watchDeviceEvents(t, d)
	d.MustVirsh("attach-disk", "da", "/var/lib/xen/b.img", "xvdb", "--live")
	ev.wait(t, "ADDED da xen-disk1")
	ua := daemontest.WriteFile(t, t.TempDir(), "ua.xml", `<disk type='file' device='disk'><source file='/var/lib/xen/u.img'/><target dev='xvdc' bus='xen'/><alias name='ua-scratch'/></disk>`)
	d.MustVirsh("attach-device", "da", ua, "--live", "--config")
	ev.wait(t, "ADDED da ua-scratch")

	d.MustVirsh("detach-device-alias", "da", "xen-disk1")
	ev.wait(t, "REMOVED da xen-disk1")
	d.MustVirsh("detach-device-alias", "da", "net0", "--live")
	ev.wait(t, "REMOVED da net0")
	if live := d.MustVirsh("dumpxml", "da"); strings.Contains(live, "<interface") || strings.Contains(live, "xvdb") {
		t.Errorf("live XML after the detaches:\n%s", live)
	}
	d.MustVirsh("detach-device-alias", "da", "ua-scratch", "--live", "--config")
	ev.wait(t, "REMOVED da ua-scratch")
	if got := blklist(t, d, "da"); got != "xvda=/var/lib/xen/a.img" {
		t.Errorf("domblklist: %s", got)
	}
	if got := blklist(t, d, "da", "--inactive"); got != "xvda=/var/lib/xen/a.img" {
		t.Errorf("domblklist --inactive: %s", got)
	}
	for _, c := range []struct{ args, want string }{
		{"detach-device-alias da nosuch", "error: internal error: no device found with alias nosuch"},
		// generated aliases are live only
		{"detach-device-alias da xen-disk0 --config", "error: internal error: no device found with alias xen-disk0"},
		{"detach-device-alias Domain-0 xen-disk0", "Domain-0 does not support requested operation"},
	} {
		if r := d.Virsh(strings.Fields(c.args)...); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("virsh %s: %d %q, want %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	ro := daemontest.Run(t, "virsh", "-c", d.ROURI(), "detach-device-alias", "da", "xen-disk0")
	if ro.Code == 0 || !strings.Contains(ro.Stderr, "operation forbidden: read only access prevents virDomainDetachDeviceAlias") {
		t.Errorf("read-only: %+v", ro)
	}
}
