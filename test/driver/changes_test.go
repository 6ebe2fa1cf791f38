package drivertests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestAcknowledgedChangesSurviveKill9: live memory and vcpu changes, a
// config-only change of a running guest and the undefine of a running
// guest (which makes it transient) are all there after a kill -9.
func TestAcknowledgedChangesSurviveKill9(t *testing.T) {
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	xml := strings.Replace(guestXML("g", ""), "<vcpu>1</vcpu>", "<vcpu>2</vcpu>", 1)
	defineStart(t, d1, "g", xml)
	d1.MustVirsh("setmem", "g", "65536", "--live")
	d1.MustVirsh("setvcpus", "g", "1", "--live")
	d1.MustVirsh("setmaxmem", "g", "200000", "--config")
	defineStart(t, d1, "gone", guestXML("gone", ""))
	d1.MustVirsh("undefine", "gone")
	d1.Signal(syscall.SIGKILL)
	d1.Wait(bound)

	d2 := daemontest.Start(t, root)
	info := d2.MustVirsh("dominfo", "g")
	for _, want := range []string{"Used memory:    65536 KiB", "CPU(s):         1", "State:          running"} {
		if !strings.Contains(info, want) {
			t.Errorf("dominfo after restart lacks %q:\n%s", want, info)
		}
	}
	if inactive := d2.MustVirsh("dumpxml", "--inactive", "g"); !strings.Contains(inactive, "<memory unit='KiB'>200000</memory>") {
		t.Errorf("config change lost:\n%s", inactive)
	}
	if info := d2.MustVirsh("dominfo", "gone"); !strings.Contains(info, "Persistent:     no") {
		t.Errorf("undefined running guest after restart:\n%s", info)
	}
	d2.MustVirsh("destroy", "gone")
	d2.MustVirsh("destroy", "g")
	if list := listAll(t, d2); list["gone"] || !list["g"] {
		t.Errorf("after destroying both: %v", list)
	}
	// The pending config change applies once the guest is off.
	if live := d2.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<memory unit='KiB'>200000</memory>") {
		t.Errorf("config change not applied after destroy:\n%s", live)
	}
}

// TestSighupLoadsNewConfigs: a config file and autostart link written by
// hand are picked up on SIGHUP, as libvirt's reload does.
func TestSighupLoadsNewConfigs(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	// A config written by another daemon is complete (defaults filled);
	// take one from a first define, then move it aside.
	define(t, d, "tmpl", guestXML("tmpl", ""))
	cfg := d.MustVirsh("dumpxml", "--inactive", "tmpl")
	d.MustVirsh("undefine", "tmpl")
	cfg = strings.Replace(cfg, "<name>tmpl</name>", "<name>byhand</name>", 1)
	dir := d.Paths.DomainConfigDir()
	daemontest.WriteFile(t, dir, "byhand.xml", cfg)
	if err := os.Symlink(filepath.Join(dir, "byhand.xml"), filepath.Join(d.Paths.AutostartDir(), "byhand.xml")); err != nil {
		t.Fatal(err)
	}
	d.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(bound); !listAll(t, d)["byhand"]; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("byhand.xml not loaded after SIGHUP")
		}
	}
	if info := d.MustVirsh("dominfo", "byhand"); !strings.Contains(info, "Autostart:      enable") {
		t.Errorf("autostart link not picked up:\n%s", info)
	}
	// Reload does not autostart: that happens once per boot.
	if got := d.DomState("byhand"); !strings.HasPrefix(got, "shut off") {
		t.Errorf("byhand after reload: %q", got)
	}
}
