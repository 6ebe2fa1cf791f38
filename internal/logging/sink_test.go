package logging

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// parseJournal decodes journald's native protocol into fields.
func parseJournal(t *testing.T, b []byte) map[string]string {
	t.Helper()
	fields := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			t.Fatalf("unterminated field %q", b)
		}
		line := b[:nl]
		if eq := bytes.IndexByte(line, '='); eq >= 0 {
			fields[string(line[:eq])] = string(line[eq+1:])
			b = b[nl+1:]
			continue
		}
		rest := b[nl+1:]
		n := binary.LittleEndian.Uint64(rest[:8])
		fields[string(line)] = string(rest[8 : 8+n])
		if rest[8+n] != '\n' {
			t.Fatalf("binary field %q not followed by a newline", line)
		}
		b = rest[8+n+1:]
	}
	return fields
}

func TestJournaldOutput(t *testing.T) {
	conn, path := journaldListener(t)
	s := testSettings(t, Settings{Outputs: "2:journald", sys: &system{journalSocket: path}})
	l := newTestLogger(t, s)
	log := l.Slog().With(ModuleKey, "rpc.server")
	log.Debug("not sent")
	log.Warn("two\nlines", "k", "v")

	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	f := parseJournal(t, buf[:n])
	if f["MESSAGE"] != "two\nlines k=v" || f["PRIORITY"] != "4" || f["SYSLOG_FACILITY"] != "3" ||
		f["LIBVIRT_SOURCE"] != "rpc.server" {
		t.Errorf("journal fields %q", f)
	}
	if !strings.HasSuffix(f["CODE_FILE"], "sink_test.go") || f["CODE_LINE"] == "" ||
		!strings.HasSuffix(f["CODE_FUNC"], "TestJournaldOutput") {
		t.Errorf("code location fields %q %q %q", f["CODE_FILE"], f["CODE_LINE"], f["CODE_FUNC"])
	}
}

// A record too big for one datagram travels as a file descriptor.
func TestJournaldLargeRecordPassesAFile(t *testing.T) {
	conn, path := journaldListener(t)
	s := testSettings(t, Settings{Outputs: "1:journald", sys: &system{journalSocket: path}})
	l := newTestLogger(t, s)
	big := strings.Repeat("x", 1<<20)
	l.Slog().Error(big)

	oob := make([]byte, syscall.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 16), oob)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v, %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "journal")
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseJournal(t, data)["MESSAGE"]; got != big {
		t.Errorf("MESSAGE has %d bytes, want %d", len(got), len(big))
	}
	if left, _ := os.ReadDir(s.sys.shmDir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestJournaldWithoutJournald(t *testing.T) {
	s := testSettings(t, Settings{Outputs: "1:journald"})
	l := newTestLogger(t, s)
	l.Slog().Error("nobody listens") // must neither fail nor block
	if l.Outputs() != "1:journald" {
		t.Errorf("Outputs() = %q", l.Outputs())
	}
}

func TestSyslogOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := testSettings(t, Settings{Outputs: "3:syslog:virtxend-test", sys: &system{syslogSocket: path}})
	l := newTestLogger(t, s)
	l.Slog().Info("not sent", ModuleKey, "driver")
	l.Slog().Warn("sent", ModuleKey, "driver")

	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(buf[:n])
	// LOG_DAEMON (3<<3) | LOG_WARNING (4)
	if !strings.HasPrefix(got, "<28>") || !strings.Contains(got, " virtxend-test[") ||
		!strings.Contains(got, ": warning : driver: sent") {
		t.Errorf("syslog datagram %q", got)
	}
}

// Like libvirt's openlog, a syslog output is accepted with no syslog
// daemon; its records are dropped until one appears.
func TestSyslogWithoutDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	s := testSettings(t, Settings{Outputs: "1:syslog:foo", sys: &system{syslogSocket: path}})
	l := newTestLogger(t, s)
	l.Slog().Error("dropped")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l.Slog().Error("delivered")
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(buf[:n]), "error : delivered") {
		t.Errorf("syslog datagram %q", buf[:n])
	}
}
