package logging

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unsafe"

	"virtxend/internal/buildinfo"
)

// The environment variables libvirt daemons read, overriding the config.
const (
	EnvDebug   = "LIBVIRT_DEBUG"
	EnvFilters = "LIBVIRT_LOG_FILTERS"
	EnvOutputs = "LIBVIRT_LOG_OUTPUTS"
)

// DefaultLogDir is where the daemonized default file output goes when
// Settings.LogDir is empty.
const DefaultLogDir = "/var/log/libvirt"

// system is what the default output and the outputs consult outside the
// process; tests replace parts of it.
type system struct {
	stdinIsTTY    func() bool
	journalSocket string
	syslogSocket  string // "" lets log/syslog find the local socket
	shmDir        string
	stderr        io.Writer
	noGreeting    bool // tests: outputs start without the version lines
}

func (s *system) withDefaults() *system {
	out := system{}
	if s != nil {
		out = *s
	}
	if out.stdinIsTTY == nil {
		out.stdinIsTTY = stdinIsTerminal
	}
	if out.journalSocket == "" {
		out.journalSocket = DefaultJournalSocket
	}
	if out.shmDir == "" {
		out.shmDir = "/dev/shm"
	}
	if out.stderr == nil {
		out.stderr = os.Stderr
	}
	return &out
}

// journalWritable is libvirt's access(socket, W_OK) test for journald.
func (s *system) journalWritable() bool {
	const wOK = 2
	return syscall.Access(s.journalSocket, wOK) == nil
}

// stdinIsTerminal is isatty(0): whether the terminal ioctl succeeds.
func stdinIsTerminal() bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, 0, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// defaultOutput is libvirt's virLogSetDefaultOutput for this daemon, at
// the default priority in force once config, environment and -v applied.
// Daemonized: journald if its socket is writable, else the log file.
// In the foreground: journald if stdin is not a terminal and journald is
// there, else stderr. journald never gets debug by default, since its rate
// limiting could stall the daemon.
func defaultOutput(level Priority, daemonized bool, logDir string, sys *system) string {
	journald := sys.journalWritable()
	useJournald := journald && (daemonized || !sys.stdinIsTTY())
	switch {
	case useJournald:
		return strconv.Itoa(int(max(level, PriorityInfo))) + ":journald"
	case daemonized:
		if logDir == "" {
			logDir = DefaultLogDir
		}
		path := filepath.Join(logDir, buildinfo.Program+".log")
		return strconv.Itoa(int(level)) + ":file:" + path
	}
	return strconv.Itoa(int(level)) + ":stderr"
}
