package logging

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The messages below are what libvirt 9.0's virtlogd/libvirtd answer to
// virt-admin daemon-log-filters / daemon-log-outputs with the same input.

func TestParseFilters(t *testing.T) {
	tests := []struct {
		in, readBack string
	}{
		{"", ""},
		{"   ", ""},
		{"1:rpc 3:remote 4:event", "1:*rpc* 3:*remote* 4:*event* "},
		{"1:a 1:a 2:b", "1:*a* 1:*a* 2:*b* "},
		{"  1:rpc   2:util.file  ", "1:*rpc* 2:*util.file* "},
		{"3:+remote", "3:*remote* "},
		{"1:foo:bar", "1:*foo* "},
		{"+2:x", "2:*x* "},
		{"02:x", "2:*x* "},
		{"\t2:x", "2:*x* "},
		{"1:*", "1:*** "},
		{"4:util.*file", "4:*util.*file* "},
		{"1:a\t2:b", "1:*a\t2* "},
	}
	for _, tc := range tests {
		list, err := ParseFilters(tc.in)
		if err != nil {
			t.Errorf("ParseFilters(%q): %v", tc.in, err)
			continue
		}
		if got := FormatFilters(list); got != tc.readBack {
			t.Errorf("ParseFilters(%q) reads back %q, want %q", tc.in, got, tc.readBack)
		}
	}
}

func TestParseFiltersErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"rpc", "invalid argument: Malformed format for filter 'rpc'"},
		{"1:", "invalid argument: Invalid match string ''"},
		{"1:+", "invalid argument: Invalid match string '+'"},
		{"5:x", "invalid argument: Invalid priority '5' for filter '5:x'"},
		{"0:x", "invalid argument: Invalid priority '0' for filter '0:x'"},
		{"x:y", "invalid argument: Invalid priority 'x' for filter 'x:y'"},
		{"-1:y", "invalid argument: Invalid priority '-1' for filter '-1:y'"},
		{":y", "invalid argument: Invalid priority '' for filter ':y'"},
		{"4294967297:y", "invalid argument: Invalid priority '4294967297' for filter '4294967297:y'"},
		{"1:ok 2", "invalid argument: Malformed format for filter '2'"},
	}
	for _, tc := range tests {
		_, err := ParseFilters(tc.in)
		checkInvalidArg(t, "ParseFilters("+tc.in+")", err, tc.msg)
	}
}

func TestParseOutputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		in, readBack string
	}{
		{"", ""},
		{"3:stderr", "3:stderr"},
		{"+1:stderr", "1:stderr"},
		{" 1:stderr ", "1:stderr"},
		{"01:journald", "1:journald"},
		{"1:syslog:", "1:syslog:"},
		{"1:syslog:foo  2:stderr 1:stderr", "1:syslog:foo 1:stderr"},
		{"1:stderr 2:file:/a 3:stderr", "2:file:/a 3:stderr"},
		{"1:syslog:a 2:syslog:b", "1:syslog:a 2:syslog:b"},
		{"2:file:rel/../a.log", "2:file:" + filepath.Join(dir, "a.log")},
		{"3:file:///tmp//x/./b.log", "3:file:/tmp/x/b.log"},
		{"3:file://tmp/b.log", "3:file://tmp/b.log"},
		{"3:file:/tmp/b/", "3:file:/tmp/b"},
		{"1:file:", "1:file:" + dir},
	}
	for _, tc := range tests {
		list, err := ParseOutputs(tc.in)
		if err != nil {
			t.Errorf("ParseOutputs(%q): %v", tc.in, err)
			continue
		}
		if got := FormatOutputs(list); got != tc.readBack {
			t.Errorf("ParseOutputs(%q) reads back %q, want %q", tc.in, got, tc.readBack)
		}
	}
}

func TestParseOutputsErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"1", "invalid argument: Malformed format for log output '1'"},
		{"5:stderr", "invalid argument: Invalid log priority '5' for log output '5:stderr'"},
		{"x:stderr", "invalid argument: Invalid log priority 'x' for log output 'x:stderr'"},
		{"-1:stderr", "invalid argument: Invalid log priority '-1' for log output '-1:stderr'"},
		{"1:std", "invalid argument: Invalid log destination 'std' for log output '1:std'"},
		{"1:Stderr", "invalid argument: Invalid log destination 'Stderr' for log output '1:Stderr'"},
		{"1:stderr:x", "invalid argument: Log output '1:stderr:x' does not meet the format requirements for destination type 'stderr'"},
		{"1:journald:x", "invalid argument: Log output '1:journald:x' does not meet the format requirements for destination type 'journald'"},
		{"1:file", "invalid argument: Log output '1:file' does not meet the format requirements for destination type 'file'"},
		{"1:syslog", "invalid argument: Log output '1:syslog' does not meet the format requirements for destination type 'syslog'"},
		{"1:file:/a:b", "invalid argument: Log output '1:file:/a:b' does not meet the format requirements for destination type 'file'"},
		{"1:stderr 9:stderr", "invalid argument: Invalid log priority '9' for log output '9:stderr'"},
	}
	for _, tc := range tests {
		_, err := ParseOutputs(tc.in)
		checkInvalidArg(t, "ParseOutputs("+tc.in+")", err, tc.msg)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Priority{
		"1": PriorityDebug, "debug": PriorityDebug, "2": PriorityInfo, "info": PriorityInfo,
		"3": PriorityWarning, "warning": PriorityWarning, "4": PriorityError, "error": PriorityError,
	} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "5", "warn", " 1", "DEBUG"} {
		_, err := ParseLevel(in)
		checkInvalidArg(t, "ParseLevel("+in+")", err,
			"invalid argument: Failed to set logging priority, argument '"+in+"' is invalid")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*rpc*", "rpc.server", true},
		{"*rpc*", "remote.rpc", true},
		{"*rpc*", "rp", false},
		{"*util.*file*", "util.virfile", true},
		{"*util.*file*", "util.log", false},
		{"*a?c*", "xxabcz", true},
		{"*a?c*", "xxaéc", true},
		{"*a?c*", "ac", false},
		{"***", "", true},
		{"*x*", "", false},
		{"*a*b*c*", "aXbXbXc", true},
		{"*a*b*c*", "aXbXbX", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestFilterPriorityFirstMatchWins(t *testing.T) {
	list, err := ParseFilters("1:rpc.server 4:rpc 2:remote")
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]Priority{
		"rpc.server":    PriorityDebug, // the first filter matches before "rpc"
		"rpc.client":    PriorityError,
		"remote.domain": PriorityInfo,
		"driver":        PriorityWarning, // no filter: the default
	} {
		if got := filterPriority(list, module, PriorityWarning); got != want {
			t.Errorf("filterPriority(%q) = %v, want %v", module, got, want)
		}
	}
}

func checkInvalidArg(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, msg)
		return
	}
	e := virerr.As(err)
	if e.Code != libvirt.ErrInvalidArg || e.Domain != virerr.FromNone || e.Error() != msg {
		t.Errorf("%s: error %d/%d %q, want %d/%d %q", what, e.Domain, e.Code, e.Error(),
			virerr.FromNone, libvirt.ErrInvalidArg, msg)
	}
}

func TestFileOutputOpenError(t *testing.T) {
	dir := t.TempDir()
	l, err := New(testSettings(t, Settings{Outputs: "1:file:" + dir}))
	if err == nil {
		l.Close()
		t.Fatal("opening a directory as log file succeeded")
	}
	e := virerr.As(err)
	want := "failed to open " + dir + ": Is a directory"
	if e.Code != libvirt.ErrSystemError || e.Error() != want {
		t.Errorf("error %d %q, want %d %q", e.Code, e.Error(), libvirt.ErrSystemError, want)
	}
}

func TestFileOutputCreatesDirsAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "x.log")
	l, err := New(testSettings(t, Settings{Outputs: "1:file:" + path}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", fi.Mode().Perm())
	}
	if got, want := l.Outputs(), "1:file:"+path; got != want {
		t.Errorf("Outputs() = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(l.NumOutputs(), 1) {
		t.Errorf("NumOutputs() = %d", l.NumOutputs())
	}
}
