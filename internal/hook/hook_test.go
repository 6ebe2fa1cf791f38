package hook

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func script(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
}

// TestCall: the script and its directory's executables run in name order,
// each with its arguments, the input and libvirt's environment; what is not
// executable is passed over; nothing runs for a driver without hooks.
func TestCall(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("VIRTXEND_SECRET", "not for hooks")
	body := `echo "$(basename $0) $* in=$(cat) env=$(env | grep -v '^PWD=' | sort | tr '\n' ,)" >>` + log + "\n"
	script(t, filepath.Join(dir, "libxl"), body, 0o755)
	script(t, filepath.Join(dir, "libxl.d", "b"), body, 0o755)
	script(t, filepath.Join(dir, "libxl.d", "a"), body, 0o755)
	script(t, filepath.Join(dir, "libxl.d", "off"), body, 0o644)
	h := New(dir)
	if _, err := h.Call(Libxl, "vm", "prepare", Begin, "", "<domain/>", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(log); err == nil {
		t.Fatal("a hook ran before the hooks were looked up")
	}
	h.Lookup()
	if !h.Present(Libxl) || h.Present(Daemon) {
		t.Fatalf("present: libxl %v, daemon %v", h.Present(Libxl), h.Present(Daemon))
	}
	if _, err := h.Call(Libxl, "vm", "prepare", Begin, "", "<domain/>", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call(Daemon, "-", "start", "", "start", "", false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	env := "env=LC_ALL=C,PATH=/usr/bin:/bin,"
	want := "libxl vm prepare begin - in=<domain/> " + env + "\n" +
		"a vm prepare begin - in=<domain/> " + env + "\n" +
		"b vm prepare begin - in=<domain/> " + env + "\n"
	if got := strings.ReplaceAll(string(b), "HOME="+os.Getenv("HOME")+",", ""); got != want {
		t.Errorf("hooks ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestFailure: a failing script's error is libvirt's, with its command line,
// status and standard error; the scripts after it still run.
func TestFailure(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(t.TempDir(), "ran")
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("HOME", "/root")
	for _, k := range []string{"LD_PRELOAD", "LD_LIBRARY_PATH", "USER", "LOGNAME", "TMPDIR"} {
		os.Unsetenv(k)
	}
	script(t, filepath.Join(dir, "libxl"), "echo no room >&2\nexit 3\n", 0o755)
	script(t, filepath.Join(dir, "libxl.d", "next"), "touch "+mark+"\n", 0o755)
	h := New(dir)
	h.Lookup()
	_, err := h.Call(Libxl, "my vm", "start", Begin, "", "", false)
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v, want a hook.Error", err)
	}
	want := "Child process (LC_ALL=C PATH=/usr/bin:/bin HOME=/root " + filepath.Join(dir, "libxl") +
		" 'my vm' start begin -) unexpected exit status 3: no room\n"
	if err.Error() != want {
		t.Errorf("error:\n%q\nwant:\n%q", err.Error(), want)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Error("the script after the failing one did not run")
	}
}

// TestFilter: with filter set, each script reads the last output that was
// not blank, which is the result.
func TestFilter(t *testing.T) {
	dir := t.TempDir()
	script(t, filepath.Join(dir, "libxl"), "sed s/one/two/\n", 0o755)
	script(t, filepath.Join(dir, "libxl.d", "a"), "true\n", 0o755)
	script(t, filepath.Join(dir, "libxl.d", "b"), "sed s/two/three/\n", 0o755)
	h := New(dir)
	h.Lookup()
	out, err := h.Call(Libxl, "vm", "migrate", Begin, "", "<one/>", true)
	if err != nil || out != "<three/>" {
		t.Fatalf("filtered %q, %v", out, err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "a/b-c_d.e": "a/b-c_d.e", "a b": "'a b'", "it's": `'it'\''s'`} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
