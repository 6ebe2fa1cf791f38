package remote

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/paths"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
	"virtxend/test/daemontest"
)

// isolatedNet is a libvirt network with a bridge and no forwarding: it
// exists only in libvirtd's network namespace.
const isolatedNet = `<network><name>default</name><bridge name='virbr0'/></network>`

const secretXML = `<secret ephemeral='no' private='no'><uuid>1b40ec1a-9d9a-43c2-9ef1-9e1f4c1a1b2c</uuid>
<usage type='ceph'><name>client.admin secret</name></usage></secret>`

// beside starts the daemon and Debian's libvirtd beside it in one root.
func beside(t *testing.T) (*daemontest.Daemon, *daemontest.Libvirtd) {
	t.Helper()
	root := daemontest.NewRoot(t)
	l := daemontest.StartLibvirtd(t, root)
	return daemontest.Start(t, root), l
}

// same runs one virsh command through the daemon and directly against
// libvirtd, and fails unless both succeed with the same output.
func same(t *testing.T, d *daemontest.Daemon, l *daemontest.Libvirtd, driver string, args ...string) string {
	t.Helper()
	via, direct := d.Virsh(args...), l.Virsh(driver, args...)
	if via.Code != 0 || direct.Code != 0 || via.Stdout != direct.Stdout {
		t.Fatalf("virsh %s: through virtxend (exit %d)\n%s%s\ndirect (exit %d)\n%s%s", strings.Join(args, " "),
			via.Code, via.Stdout, via.Stderr, direct.Code, direct.Stdout, direct.Stderr)
	}
	return via.Stdout
}

// TestSecondaryDriversThroughLibvirtd: storage, network, node device,
// secret, nwfilter and interface calls made to virtxend reach libvirtd and
// come back as libvirtd answers them, streams included.
func TestSecondaryDriversThroughLibvirtd(t *testing.T) {
	d, l := beside(t)
	d.MustVirsh("pool-define-as", "default", "dir", "--target", "/var/lib/libvirt/images")
	d.MustVirsh("pool-build", "default")
	d.MustVirsh("pool-start", "default")
	if out := same(t, d, l, "storage", "pool-list", "--all"); !strings.Contains(out, "default") {
		t.Fatalf("pool-list: %q", out)
	}
	d.MustVirsh("vol-create-as", "default", "a.img", "1M")
	if !l.Exists("/var/lib/libvirt/images/a.img") {
		t.Fatal("the volume is not in libvirtd's pool")
	}
	same(t, d, l, "storage", "vol-list", "default")

	// Streams both ways: upload a file, download it again.
	dir := t.TempDir()
	data := bytes.Repeat([]byte("virtxend"), 128*1024) // 1 MiB, several stream packets
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	os.WriteFile(up, data, 0o644)
	d.MustVirsh("vol-upload", "--pool", "default", "a.img", up)
	d.MustVirsh("vol-download", "--pool", "default", "a.img", down)
	if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, uploaded %d", len(got), len(data))
	}

	d.MustVirsh("net-define", guestFile(t, "net", isolatedNet))
	d.MustVirsh("net-start", "default")
	same(t, d, l, "network", "net-list", "--all")
	same(t, d, l, "network", "net-dumpxml", "default")

	d.MustVirsh("secret-define", guestFile(t, "secret", secretXML))
	d.MustVirsh("secret-set-value", "1b40ec1a-9d9a-43c2-9ef1-9e1f4c1a1b2c", "--base64", "c2VjcmV0")
	if v := d.MustVirsh("secret-get-value", "1b40ec1a-9d9a-43c2-9ef1-9e1f4c1a1b2c"); strings.TrimSpace(v) != "c2VjcmV0" {
		t.Fatalf("secret value %q", v)
	}
	same(t, d, l, "nodedev", "nodedev-list", "--cap", "pci")
	same(t, d, l, "nwfilter", "nwfilter-list")
	same(t, d, l, "interface", "iface-list", "--all")
	// The hypervisor's own calls are still ours.
	if out := d.MustVirsh("list", "--all", "--name"); !strings.Contains(out, "Domain-0") {
		t.Fatalf("list: %q", out)
	}
}

// TestSecondaryReadOnly: a read-only client reads through a read-only
// connection, and libvirtd refuses its writes with libvirt's error.
func TestSecondaryReadOnly(t *testing.T) {
	d, _ := beside(t)
	d.MustVirsh("pool-define-as", "p1", "dir", "--target", "/var/lib/libvirt/images")
	ro := daemontest.Run(t, "virsh", "-q", "-c", d.ROURI(), "pool-list", "--all", "--name")
	if ro.Code != 0 || strings.TrimSpace(ro.Stdout) != "p1" {
		t.Fatalf("pool-list on ro: %+v", ro)
	}
	gl := d.GoLibvirt(paths.ROSocketName)
	_, err := gl.StoragePoolDefineXML("<pool type='dir'><name>p2</name><target><path>/tmp</path></target></pool>", 0)
	wantLibvirtError(t, "pool define on ro", err, libvirt.ErrOperationDenied,
		"operation forbidden: read only access prevents virStoragePoolDefineXML")
}

// TestSecondaryEvents: pool and network events registered through
// virtxend come back from libvirtd with the client's callbacks.
func TestSecondaryEvents(t *testing.T) {
	d, _ := beside(t)
	const script = `
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
def pool(conn, p, event, detail, opaque):
    print("pool %s %d" % (p.name(), event), flush=True)
def net(conn, n, event, detail, opaque):
    print("net %s %d" % (n.name(), event), flush=True)
conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, pool, None)
conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, net, None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
print("READY", flush=True)
sys.stdin.read()
`
	w := startPython(t, script, d.URI())
	d.MustVirsh("pool-define-as", "evpool", "dir", "--target", "/var/lib/libvirt/images")
	d.MustVirsh("net-define", guestFile(t, "net", isolatedNet))
	// VIR_STORAGE_POOL_EVENT_DEFINED and VIR_NETWORK_EVENT_DEFINED are 0.
	w.waitLines(t, "pool evpool 0", "net default 0")
}

// TestSecondaryWithoutLibvirtd: with no daemon serving the secondary
// drivers, their calls fail as libvirt's virtxend fails them, naming the
// socket, and the hypervisor driver keeps working on the same connection.
func TestSecondaryWithoutLibvirtd(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	gl := d.GoLibvirt(paths.RWSocketName)
	_, _, err := gl.ConnectListAllStoragePools(1, 0)
	sock := filepath.Join(d.Paths.SocketDir(), "libvirt-sock")
	wantLibvirtError(t, "pool list", err, libvirt.ErrSystemError,
		"Failed to connect socket to '"+sock+"': No such file or directory")
	if _, err := gl.DomainDefineXML(pvXML("g1")); err != nil {
		t.Fatalf("domain call after the failed storage call: %v", err)
	}
	r := d.Virsh("net-list")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Failed to connect socket to '"+sock+"'") {
		t.Fatalf("virsh net-list: %+v", r)
	}
}

// pythonWatcher is a python script printing lines until its stdin closes.
type pythonWatcher struct {
	out *daemontest.SyncBuffer
}

func startPython(t *testing.T, script string, args ...string) *pythonWatcher {
	t.Helper()
	cmd, out := daemontest.PythonCommand(t, script, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	w := &pythonWatcher{out: out}
	w.waitLines(t, "READY")
	return w
}

// waitLines waits until every line in want was printed.
func (w *pythonWatcher) waitLines(t *testing.T, want ...string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines := strings.Split(w.out.String(), "\n")
		missing := ""
		for _, l := range want {
			if !contains(lines, l) {
				missing = l
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("python never printed %q:\n%s", missing, w.out.String())
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSecondaryBeforeOpen: before CONNECT_OPEN a secondary driver's call
// gets remoteOpenConn's "connection not open", the hypervisor's its own.
func TestSecondaryBeforeOpen(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	c, err := rpc.Dial(context.Background(), filepath.Join(d.Paths.SocketDir(), paths.RWSocketName), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body, _ := xdr.Marshal(&libvirt.ConnectListAllStoragePoolsArgs{NeedResults: 1})
	_, err = c.Call(context.Background(), 0x20008086, 1, 281, body)
	if w := virerr.As(err).Wire(); w.Code != libvirt.ErrInternalError || w.Domain != virerr.FromRPC ||
		w.Message != "internal error: connection not open" {
		t.Errorf("storage call before open: %+v", w)
	}
	_, err = c.Call(context.Background(), 0x20008086, 1, 51, nil) // CONNECT_NUM_OF_DOMAINS
	if w := virerr.As(err).Wire(); w.Message != "internal error: hypervisor connection not open" {
		t.Errorf("domain call before open: %+v", w)
	}
}
