package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

var unitNames = []string{"virtxend.service", "virtxend.socket", "virtxend-ro.socket", "virtxend-admin.socket"}

// TestUnitFilesVerify runs systemd-analyze verify on the shipped units, with
// ExecStart pointed at the built binary (verify checks it is executable).
func TestUnitFilesVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	for _, name := range unitNames {
		data, err := os.ReadFile(filepath.Join("..", "..", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "/usr/sbin/virtxend", daemontest.Binary(t))
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	args := []string{"verify", "--man=no"}
	for _, name := range unitNames {
		args = append(args, filepath.Join(dir, name))
	}
	out, err := exec.Command("systemd-analyze", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Any complaint fails: Debian 12's systemd 252 must take the units as
	// they are.
	if text := strings.TrimSpace(string(out)); text != "" {
		t.Errorf("systemd-analyze verify:\n%s", text)
	}
}

func TestUnitFilesCarryLibvirtsSettings(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	service := read("virtxend.service")
	for _, want := range []string{"Type=notify\n", `Environment=VIRTXEND_ARGS="--timeout 120"`,
		"ExecStart=/usr/sbin/virtxend $VIRTXEND_ARGS", "ExecReload=/bin/kill -HUP $MAINPID", "KillMode=process",
		"BindsTo=virtxend.socket", "Conflicts=libvirtd.service xendomains.service",
		"ConditionPathExists=/proc/xen/capabilities", "After=virtxend.service",
		"Wants=virtxend-ro.socket virtxend-admin.socket virtlockd.socket", "Restart=on-failure",
		"After=virtxend.socket virtxend-ro.socket virtxend-admin.socket", "WantedBy=multi-user.target",
		"Also=virtxend.socket virtxend-ro.socket virtxend-admin.socket virtlockd.socket"} {
		if !strings.Contains(service, want) {
			t.Errorf("virtxend.service lacks %q", want)
		}
	}
	// Socket modes are libvirt's for a build without polkit (no auth).
	sockets := map[string][]string{
		"virtxend.socket":       {"ListenStream=/run/libvirt/virtxend-sock\n", "SocketMode=0600\n", "Conflicts=libvirtd.socket\n"},
		"virtxend-ro.socket":    {"ListenStream=/run/libvirt/virtxend-sock-ro\n", "SocketMode=0666\n", "BindsTo=virtxend.socket\n"},
		"virtxend-admin.socket": {"ListenStream=/run/libvirt/virtxend-admin-sock\n", "SocketMode=0600\n", "BindsTo=virtxend.socket\n"},
	}
	for name, own := range sockets {
		text := read(name)
		for _, want := range append(own, "Service=virtxend.service", "RemoveOnStop=yes", "WantedBy=sockets.target",
			"ConditionPathExists=/proc/xen/capabilities") {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}
