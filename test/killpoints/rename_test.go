package killpoints

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/internal/store"
	"virtxend/test/daemontest"
)

// TestRenameAtEachKillPoint: virsh domrename of a guest that autostarts,
// the daemon killed at each store write in turn (those of its start, then
// the rename's: the new autostart link, the new config, the old config's
// and link's removal). After each kill a restarted daemon has the guest
// under one name, the old or the new, autostarting, with its config and
// link under that name only and no temporary file: the rename is done or
// not done.
func TestRenameAtEachKillPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon dozens of times")
	}
	bin := filepath.Join(t.TempDir(), "virtxend-killpoints")
	if out, err := exec.Command("go", "build", "-tags", "killpoints", "-o", bin, "virtxend/cmd/virtxend").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags killpoints: %v\n%s", err, out)
	}
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	d.MustVirsh("define", daemontest.WriteFile(t, t.TempDir(), "a.xml", `<domain type='xen'><name>a</name>
<memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`))
	d.MustVirsh("autostart", "a")
	d.Stop()

	steps := map[string]int{}
	for n := 1; ; n++ {
		if n > 100 {
			t.Fatalf("the rename was still killed at the 100th store write: %v", steps)
		}
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), paths.RootEnv+"="+root, "VIRTXEND_KILLPOINT="+strconv.Itoa(n))
		armed := daemontest.Launch(t, cmd, root)
		sock := armed.Paths.SocketDir() + "/" + paths.RWSocketName
		for !armed.Exited() && !daemontest.Serves(sock) {
			time.Sleep(10 * time.Millisecond)
		}
		renamed := false
		if !armed.Exited() {
			renamed = armed.Virsh("domrename", "a", "b").Code == 0
			armed.Cmd.Process.Kill() // if the kill point has not already
		}
		armed.Wait(time.Minute)
		k, killed := killPoint(armed.Output())
		if !killed && renamed {
			break // every write of the start and the rename passed
		}
		line := k.Line()
		if killed {
			steps[k.Step]++
		}

		after := daemontest.Start(t, root)
		name := checkOneName(t, after, line)
		if name == "b" { // back, for the next kill
			after.MustVirsh("domrename", "b", "a")
		}
		after.Stop()
		if t.Failed() {
			return
		}
	}
	t.Logf("kills by step: %v", steps)
	for _, step := range []string{"symlink:renamed", "write:renamed", "remove:unlinked"} {
		if steps[step] == 0 {
			t.Errorf("no kill at %s: %v", step, steps)
		}
	}
}

// checkOneName checks the restarted daemon's view and files after a kill
// at line, and returns the guest's name.
func checkOneName(t *testing.T, d *daemontest.Daemon, line string) string {
	t.Helper()
	var names []string
	for _, n := range strings.Fields(d.MustVirsh("list", "--all", "--name")) {
		if n != "Domain-0" {
			names = append(names, n)
		}
	}
	if len(names) != 1 || (names[0] != "a" && names[0] != "b") {
		t.Fatalf("after %q: domains %v", line, names)
	}
	name := names[0]
	if info := d.MustVirsh("dominfo", name); !strings.Contains(info, "Autostart:      enable") {
		t.Errorf("after %q: %s does not autostart", line, name)
	}
	configs, links := d.Paths.DomainConfigDir(), d.Paths.AutostartDir()
	for _, dir := range []string{configs, links} {
		entries, _ := os.ReadDir(dir)
		var got []string
		for _, e := range entries {
			if !e.IsDir() { // the autostart directory is in the configs'
				got = append(got, e.Name())
			}
		}
		if len(got) != 1 || got[0] != name+".xml" {
			t.Errorf("after %q: %s holds %v, want %s.xml alone", line, dir, got, name)
		}
	}
	if !store.LinkPointsTo(filepath.Join(links, name+".xml"), filepath.Join(configs, name+".xml")) {
		t.Errorf("after %q: the link of %s points elsewhere", line, name)
	}
	return name
}

// killPoint is where the daemon said it killed itself, if it did.
func killPoint(out string) (store.KillPoint, bool) {
	for _, l := range strings.Split(out, "\n") {
		if k, ok := store.ParseKillPoint(l); ok {
			return k, true
		}
	}
	return store.KillPoint{}, false
}
