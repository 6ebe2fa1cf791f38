// Package admin_test drives the built daemon with Debian's virt-admin, as
// the issue "The admin interface" asks, and with a raw admin client for
// the call virt-admin 9.0 lacks (CONNECT_DAEMON_SHUTDOWN).
package admin_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// mustAdmin runs virt-admin and fails the test unless it succeeds.
func mustAdmin(t *testing.T, d *daemontest.Daemon, args ...string) string {
	t.Helper()
	r := d.VirtAdmin(args...)
	if r.Code != 0 {
		t.Fatalf("virt-admin %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// fields parses virt-admin's "name : value" listings.
func fields(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// holdScript keeps a libvirt-python connection open until the daemon
// closes it, then reports the close callback's reason and exits.
// It stands for the issue's `virsh event --loop`: a long-lived client whose
// close callback also tells why the daemon dropped it.
const holdScript = `import libvirt, sys
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
done = []
conn.registerCloseCallback(lambda c, reason, opaque: done.append(reason), None)
print("ready", flush=True)
while not done:
    libvirt.virEventRunDefaultImpl()
print("closed", done[0], flush=True)
`

// holder is a long-lived client of the main server.
type holder struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

// startHolder starts holdScript and waits until its connection is open.
func startHolder(t *testing.T, d *daemontest.Daemon) *holder {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import libvirt").CombinedOutput(); err != nil {
		t.Skipf("python3-libvirt is not installed: %s", out)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", holdScript, d.URI())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	if line := h.line(); line != "ready" {
		t.Fatalf("client did not connect: %q", line)
	}
	return h
}

func (h *holder) line() string {
	if !h.out.Scan() {
		return ""
	}
	return h.out.Text()
}
