package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// systemd before 253 does not know Type=notify-reload; that is the
		// only complaint allowed, and only there.
		if line == "" || (systemdVersion(t) < 253 && strings.Contains(line, "notify-reload")) {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
}

func systemdVersion(t *testing.T) int {
	out, _ := exec.Command("systemd-analyze", "--version").Output()
	m := regexp.MustCompile(`systemd (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("cannot read the systemd version from %q", out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
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
	for _, want := range []string{"Type=notify-reload", `Environment=VIRTXEND_ARGS="--timeout 120"`,
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
