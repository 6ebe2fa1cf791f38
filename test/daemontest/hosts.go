package daemontest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/paths"
)

// Host is one of two simulated Xen hosts on this machine: a daemon in its
// own network namespace (joined to the other's by a veth pair), with its
// own hostname (UTS namespace) and /etc/hosts naming both (mount
// namespace). Clients reach its sockets from here, as the sockets are
// files; guests' data between the hosts goes over TCP between the
// namespaces. Nothing of the host's own network is touched.
type Host struct {
	*Daemon
	Name string // its hostname, which the other host resolves
	Addr string // its address on the link between the two

	t      testing.TB
	netns  string
	script string
}

// Start starts the host's daemon (again, once it has exited) and waits
// until it serves.
func (h *Host) Start() {
	h.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", h.netns,
		"unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", h.script)
	cmd.Env = append(os.Environ(), paths.RootEnv+"="+h.Root)
	h.Daemon = Launch(h.t, cmd, h.Root)
	h.WaitForSocket(filepath.Join(h.Paths.SocketDir(), paths.RWSocketName))
}

// StartHosts starts two daemons, each in a fresh root of its own, as two
// hosts joined by a network link. libxlConf, if not empty, is both hosts'
// libxl.conf. Everything goes when the test ends.
func StartHosts(t testing.TB, libxlConf string) (a, b *Host) {
	t.Helper()
	for _, tool := range []string{"ip", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	tag := randomTag(t)
	hosts := [2]*Host{
		{Name: "vx-a-" + tag + ".test", Addr: "10.99.0.1"},
		{Name: "vx-b-" + tag + ".test", Addr: "10.99.0.2"},
	}
	netns := [2]string{"vxa-" + tag, "vxb-" + tag}
	link(t, netns, hosts[0].Addr, hosts[1].Addr)
	var table strings.Builder
	table.WriteString("127.0.0.1 localhost\n")
	for _, h := range hosts {
		fmt.Fprintf(&table, "%s %s\n", h.Addr, h.Name)
	}
	for i, h := range hosts {
		root := NewRoot(t)
		if libxlConf != "" {
			WriteFile(t, root, "etc/libvirt/libxl.conf", libxlConf)
		}
		hostsFile := WriteFile(t, root, "hosts", table.String())
		// ip netns exec, unshare and sh each exec the next, so the process
		// started is the daemon's.
		h.t, h.netns, h.Daemon = t, netns[i], &Daemon{Root: root}
		h.script = fmt.Sprintf("hostname %s && mount --bind %s /etc/hosts && exec %s", h.Name, hostsFile, Binary(t))
		h.Start()
	}
	return hosts[0], hosts[1]
}

// AddNeighbor puts ip at mac in the neighbour (ARP) table of the host's
// namespace, on its end of the link, in state state ("reachable",
// "stale", "permanent", ...), as traffic from a guest at ip would.
func (h *Host) AddNeighbor(ip, mac, state string) {
	h.t.Helper()
	mustRun(h.t, "ip", "-n", h.netns, "neigh", "replace", ip, "lladdr", mac, "dev", "vx0", "nud", state)
}

// LinkDown takes the host's end of the link down: the other host's
// traffic to it goes unanswered, as when a cable is pulled.
func (h *Host) LinkDown() {
	h.t.Helper()
	mustRun(h.t, "ip", "-n", h.netns, "link", "set", "vx0", "down")
}

// link makes the two network namespaces and the veth pair between them,
// removed when the test ends.
func link(t testing.TB, netns [2]string, addrA, addrB string) {
	t.Helper()
	for _, ns := range netns {
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	}
	mustRun(t, "ip", "link", "add", "vx0", "netns", netns[0], "type", "veth", "peer", "name", "vx0", "netns", netns[1])
	for i, addr := range []string{addrA, addrB} {
		mustRun(t, "ip", "-n", netns[i], "addr", "add", addr+"/24", "dev", "vx0")
		mustRun(t, "ip", "-n", netns[i], "link", "set", "vx0", "up")
		mustRun(t, "ip", "-n", netns[i], "link", "set", "lo", "up")
	}
}

func mustRun(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func randomTag(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
