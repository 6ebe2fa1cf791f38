package logging

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a stderr stand-in safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testSettings isolates s from the host: no environment, a terminal on
// stdin, no journald, stderr captured (read it back with stderrOf), and no
// greeting lines.
func testSettings(t *testing.T, s Settings) Settings {
	t.Helper()
	if s.Getenv == nil {
		s.Getenv = func(string) string { return "" }
	}
	if s.sys == nil {
		s.sys = &system{}
	}
	s.sys.noGreeting = true
	if s.sys.stdinIsTTY == nil {
		s.sys.stdinIsTTY = func() bool { return true }
	}
	if s.sys.journalSocket == "" {
		s.sys.journalSocket = filepath.Join(t.TempDir(), "no-journal")
	}
	if s.sys.stderr == nil {
		s.sys.stderr = &syncBuffer{}
	}
	if s.sys.shmDir == "" {
		s.sys.shmDir = t.TempDir()
	}
	return s
}

func stderrOf(s Settings) string { return s.sys.stderr.(*syncBuffer).String() }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newTestLogger(t *testing.T, s Settings) *Logger {
	t.Helper()
	l, err := New(s)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// messages strips each line down to the text after "level : module: ".
func messages(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			out = append(out, m[4])
		}
	}
	return out
}

var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: (\d+): (debug|info|warning|error) : (?:([^ ]+): )?(.*)$`)

func TestLineFormat(t *testing.T) {
	s := testSettings(t, Settings{Outputs: "1:stderr"})
	l := newTestLogger(t, s)
	log := l.Slog().With(ModuleKey, "rpc.server", "client", 7).WithGroup("g")
	log.Warn("hello world", "a", "x y", "b", "", slog.Group("h", "c", true))
	l.Slog().Error("no module", "err", fmt.Errorf("boom"))

	lines := strings.Split(strings.TrimSuffix(stderrOf(s), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), lines)
	}
	pid := strconv.Itoa(os.Getpid())
	want := []struct{ level, module, text string }{
		{"warning", "rpc.server", `hello world client=7 g.a="x y" g.b="" g.h.c=true`},
		{"error", "", "no module err=boom"},
	}
	for i, w := range want {
		m := lineRE.FindStringSubmatch(lines[i])
		if m == nil {
			t.Fatalf("line %q is not in libvirt's format", lines[i])
		}
		if m[1] != pid || m[2] != w.level || m[3] != w.module || m[4] != w.text {
			t.Errorf("line %q: got pid %s level %s module %q text %q, want %s %s %q %q",
				lines[i], m[1], m[2], m[3], m[4], pid, w.level, w.module, w.text)
		}
	}
}

// Each output starts with libvirt's version and host lines, once, at info
// whatever the output's priority, as libvirt's logInitMessage.
func TestGreeting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	s := testSettings(t, Settings{Outputs: "4:file:" + path})
	s.sys.noGreeting = false
	l := newTestLogger(t, s)
	l.Slog().Warn("dropped")
	l.Slog().Error("first")
	l.Slog().Error("second")
	if err := l.SetFilters("1:x"); err != nil { // same outputs: no new greeting
		t.Fatal(err)
	}
	l.Slog().Error("third")
	host, _ := os.Hostname()
	want := []string{"info : libvirt version: 11.3.0, package: virtxend", "info : hostname: " + host,
		"error : first", "error : second", "error : third"}
	lines := readLines(t, path)
	if len(lines) != len(want) {
		t.Fatalf("log holds %q", lines)
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], ": "+w) {
			t.Errorf("line %d = %q, want it to end in %q", i, lines[i], w)
		}
	}
}

func TestLevelRoutingAcrossTwoFiles(t *testing.T) {
	dir := t.TempDir()
	all, warn := filepath.Join(dir, "all.log"), filepath.Join(dir, "warn.log")
	l := newTestLogger(t, testSettings(t, Settings{Level: 1, Outputs: "1:file:" + all + " 3:file:" + warn}))
	log := l.Slog().With(ModuleKey, "driver")
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	log.Log(context.Background(), slog.LevelError+4, "beyond")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(messages(readLines(t, all)), ","), "d,i,w,e,beyond"; got != want {
		t.Errorf("1:file got %s, want %s", got, want)
	}
	if got, want := strings.Join(messages(readLines(t, warn)), ","), "w,e,beyond"; got != want {
		t.Errorf("3:file got %s, want %s", got, want)
	}
}

func TestFilterPrecedenceInRouting(t *testing.T) {
	s := testSettings(t, Settings{Filters: "1:rpc.server 4:rpc 2:remote", Outputs: "1:stderr"})
	l := newTestLogger(t, s)
	log := l.Slog()
	srv, cli := log.With(ModuleKey, "rpc.server"), log.With(ModuleKey, "rpc.client")
	srv.Debug("server debug")
	cli.Warn("client warning")
	cli.Error("client error")
	log.Info("remote info", ModuleKey, "remote.domain")
	log.Debug("remote debug", ModuleKey, "remote.domain")
	log.Info("driver info", ModuleKey, "driver")
	log.Warn("driver warning", ModuleKey, "driver")
	log.Warn("no module")

	got := messages(strings.Split(stderrOf(s), "\n"))
	want := []string{"server debug", "client error", "remote info", "driver warning", "no module"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", got, want)
	}
	if !srv.Enabled(context.Background(), slog.LevelDebug) || cli.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("Enabled disagrees with the filters")
	}
}

func TestSettingsPrecedence(t *testing.T) {
	tests := []struct {
		name                   string
		s                      Settings
		env                    map[string]string
		level                  Priority
		filters, outputs, dflt string
	}{
		{"defaults", Settings{}, nil, 3, "", "3:stderr", "3:stderr"},
		{"config", Settings{Level: 4, Filters: "1:rpc", Outputs: "2:stderr"}, nil, 4, "1:*rpc* ", "2:stderr", "4:stderr"},
		{"env over config", Settings{Level: 4, Filters: "1:rpc", Outputs: "2:stderr"},
			map[string]string{EnvDebug: "debug", EnvFilters: "3:remote", EnvOutputs: "4:stderr"},
			1, "3:*remote* ", "4:stderr", "1:stderr"},
		{"verbose raises", Settings{Verbose: true}, nil, 2, "", "2:stderr", "2:stderr"},
		{"verbose over env", Settings{Verbose: true}, map[string]string{EnvDebug: "4"}, 2, "", "2:stderr", "2:stderr"},
		{"verbose keeps debug", Settings{Level: 1, Verbose: true}, nil, 1, "", "1:stderr", "1:stderr"},
		{"empty env ignored", Settings{Level: 4}, map[string]string{EnvDebug: "", EnvOutputs: ""}, 4, "", "4:stderr", "4:stderr"},
		{"blank outputs get default", Settings{Outputs: "  "}, nil, 3, "", "3:stderr", "3:stderr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.Getenv = envOf(tc.env)
			l := newTestLogger(t, testSettings(t, tc.s))
			if l.Level() != tc.level || l.Filters() != tc.filters || l.Outputs() != tc.outputs || l.DefaultOutput() != tc.dflt {
				t.Errorf("got level %d filters %q outputs %q default %q, want %d %q %q %q",
					l.Level(), l.Filters(), l.Outputs(), l.DefaultOutput(), tc.level, tc.filters, tc.outputs, tc.dflt)
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		s   Settings
		env map[string]string
		msg string
	}{
		{Settings{Level: 5}, nil, "invalid argument: Failed to set logging priority, argument '5' is invalid"},
		{Settings{Filters: "rpc"}, nil, "invalid argument: Malformed format for filter 'rpc'"},
		{Settings{Outputs: "1:std"}, nil, "invalid argument: Invalid log destination 'std' for log output '1:std'"},
		{Settings{}, map[string]string{EnvDebug: "7"}, "invalid argument: Failed to set logging priority, argument '7' is invalid"},
		{Settings{}, map[string]string{EnvFilters: "9:x"}, "invalid argument: Invalid priority '9' for filter '9:x'"},
		{Settings{}, map[string]string{EnvOutputs: "1"}, "invalid argument: Malformed format for log output '1'"},
	}
	for _, tc := range tests {
		tc.s.Getenv = envOf(tc.env)
		_, err := New(testSettings(t, tc.s))
		checkInvalidArg(t, fmt.Sprintf("New(%+v, env %v)", tc.s, tc.env), err, tc.msg)
	}
}

// journaldListener stands in for journald's socket.
func journaldListener(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func TestDefaultOutputChoice(t *testing.T) {
	_, journal := journaldListener(t)
	missing := filepath.Join(t.TempDir(), "missing")
	logDir := t.TempDir()
	tests := []struct {
		name       string
		level      uint
		daemonized bool
		tty        bool
		journal    string
		want       string
	}{
		{"daemon with journald", 0, true, true, journal, "3:journald"},
		{"daemon with journald caps debug", 1, true, false, journal, "2:journald"},
		{"daemon keeps error on journald", 4, true, false, journal, "4:journald"},
		{"daemon without journald", 1, true, false, missing, "1:file:" + filepath.Join(logDir, "virtxend.log")},
		{"foreground on a terminal", 0, false, true, journal, "3:stderr"},
		{"foreground, stdin not a terminal", 1, false, false, journal, "2:journald"},
		{"foreground without journald", 0, false, false, missing, "3:stderr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings(t, Settings{Level: tc.level, Daemonized: tc.daemonized, LogDir: logDir,
				sys: &system{journalSocket: tc.journal, stdinIsTTY: func() bool { return tc.tty }}})
			l := newTestLogger(t, s)
			if l.DefaultOutput() != tc.want || l.Outputs() != tc.want {
				t.Errorf("default %q, outputs %q, want %q", l.DefaultOutput(), l.Outputs(), tc.want)
			}
		})
	}
	if got := defaultOutput(3, true, "", &system{journalSocket: missing}); got != "3:file:/var/log/libvirt/virtxend.log" {
		t.Errorf("default file without LogDir = %q", got)
	}
}

func TestSetOutputsAndFilters(t *testing.T) {
	dir := t.TempDir()
	s := testSettings(t, Settings{Outputs: "1:file:" + filepath.Join(dir, "a.log")})
	l := newTestLogger(t, s)

	if err := l.SetFilters("1:rpc 3:+remote"); err != nil {
		t.Fatal(err)
	}
	if got := l.Filters(); got != "1:*rpc* 3:*remote* " || l.NumFilters() != 2 {
		t.Errorf("Filters() = %q (%d)", got, l.NumFilters())
	}
	if err := l.SetFilters("bad"); err == nil || l.Filters() != "1:*rpc* 3:*remote* " {
		t.Errorf("bad filters: err %v, filters now %q", err, l.Filters())
	}
	if err := l.SetFilters(""); err != nil || l.Filters() != "" || l.NumFilters() != 0 {
		t.Errorf("clearing filters: err %v, filters %q", err, l.Filters())
	}

	b := filepath.Join(dir, "b.log")
	if err := l.SetOutputs("2:file:" + b + " 4:stderr"); err != nil {
		t.Fatal(err)
	}
	if got := l.Outputs(); got != "2:file:"+b+" 4:stderr" || l.NumOutputs() != 2 {
		t.Errorf("Outputs() = %q", got)
	}
	if err := l.SetOutputs("1:file:" + dir); err == nil || l.Outputs() != "2:file:"+b+" 4:stderr" {
		t.Errorf("unopenable output: err %v, outputs now %q", err, l.Outputs())
	}
	if err := l.SetOutputs(""); err != nil || l.Outputs() != "3:stderr" {
		t.Errorf("SetOutputs(\"\"): err %v, outputs %q; want the default 3:stderr", err, l.Outputs())
	}

	// Blank but not empty: no outputs at all, and libvirt then writes
	// whatever passes the filters to stderr.
	if err := l.SetOutputs("   "); err != nil || l.Outputs() != "" || l.NumOutputs() != 0 {
		t.Errorf("SetOutputs(blank): err %v, outputs %q", err, l.Outputs())
	}
	l.Slog().Warn("to the fallback")
	if !strings.Contains(stderrOf(s), "warning : to the fallback") {
		t.Errorf("stderr %q lacks the fallback record", stderrOf(s))
	}
}

func TestCloseDropsLaterRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	l, err := New(testSettings(t, Settings{Outputs: "1:file:" + path}))
	if err != nil {
		t.Fatal(err)
	}
	l.Slog().Warn("before")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Slog().Warn("after")
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.SetOutputs("1:stderr"); err == nil {
		t.Error("SetOutputs after Close succeeded")
	}
	if got := strings.Join(messages(readLines(t, path)), ","); got != "before" {
		t.Errorf("file holds %q", got)
	}
}

// TestLiveChangesUnderLoad swaps filters and outputs while goroutines log;
// run with -race. a.log is in every configuration, so it must receive
// every record the filters let through, each line whole; once the changes
// are over the final configuration must be the one in force.
func TestLiveChangesUnderLoad(t *testing.T) {
	const perGoroutine = 300
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	l := newTestLogger(t, testSettings(t, Settings{Level: 1, Filters: "1:mod1 4:mod2", Outputs: "1:file:" + a}))

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := l.Slog().With(ModuleKey, fmt.Sprintf("mod%d", g))
			for i := range perGoroutine {
				log.Info("record", "i", i)
				_ = l.Filters() + l.Outputs()
			}
		}()
	}
	for i := range 100 {
		out := "1:file:" + a
		if i%2 == 1 {
			out = "2:file:" + b + " 1:file:" + a
		}
		if err := l.SetOutputs(out); err != nil {
			t.Fatal(err)
		}
		// mod0 and mod3 match no filter; mod2 never logs info.
		if err := l.SetFilters(fmt.Sprintf("%d:mod1 4:mod2", 1+i%4)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()

	if err := l.SetOutputs("1:file:" + b); err != nil {
		t.Fatal(err)
	}
	if err := l.SetFilters("4:final"); err != nil {
		t.Fatal(err)
	}
	l.Slog().Info("last", ModuleKey, "mod0")
	l.Slog().Info("dropped", ModuleKey, "final")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	perModule := map[string]int{}
	for _, line := range readLines(t, a) {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("a.log: torn line %q", line)
		}
		perModule[m[3]]++
	}
	if perModule["mod0"] != perGoroutine || perModule["mod3"] != perGoroutine || perModule["mod2"] != 0 {
		t.Errorf("a.log records per module %v, want %d for mod0 and mod3, none for mod2", perModule, perGoroutine)
	}
	got := messages(readLines(t, b))
	if len(got) == 0 || got[len(got)-1] != "last" {
		t.Errorf("b.log ends with %q, want \"last\"", got)
	}
}
