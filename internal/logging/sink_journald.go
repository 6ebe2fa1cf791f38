package logging

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// DefaultJournalSocket is where systemd-journald takes native messages.
const DefaultJournalSocket = "/run/systemd/journal/socket"

// journalSink speaks journald's native protocol over an unconnected
// datagram socket, addressing every message, so a journald restart costs
// nothing. As in libvirt, send errors are ignored; messages too large for
// a datagram travel as a file descriptor of an unlinked tmpfs file.
type journalSink struct {
	mu     sync.Mutex
	fd     int
	addr   syscall.SockaddrUnix
	shmDir string
	closed bool
}

func newJournalSink(socket, shmDir string) (*journalSink, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, systemError(err, "Unable to create journald socket")
	}
	return &journalSink{fd: fd, addr: syscall.SockaddrUnix{Name: socket}, shmDir: shmDir}, nil
}

func (s *journalSink) write(e *entry) {
	msg := journalMessage(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	err := syscall.Sendmsg(s.fd, msg, nil, &s.addr, syscall.MSG_NOSIGNAL)
	if errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, syscall.ENOBUFS) {
		s.sendAsFile(msg)
	}
}

// sendAsFile passes msg in a deleted file, journald's way for big entries.
func (s *journalSink) sendAsFile(msg []byte) {
	f, err := os.CreateTemp(s.shmDir, "journal.")
	if err != nil {
		return
	}
	defer f.Close()
	if os.Remove(f.Name()) != nil {
		return
	}
	if _, err := f.Write(msg); err != nil {
		return
	}
	rights := syscall.UnixRights(int(f.Fd()))
	_ = syscall.Sendmsg(s.fd, nil, rights, &s.addr, syscall.MSG_NOSIGNAL)
}

func (s *journalSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return syscall.Close(s.fd)
}

// journalMessage encodes the fields libvirt sends: MESSAGE, PRIORITY,
// SYSLOG_FACILITY (3, daemon), LIBVIRT_SOURCE (the module), and the code
// location when the record has one.
func journalMessage(e *entry) []byte {
	var b []byte
	b = appendJournalField(b, "MESSAGE", e.text)
	b = appendJournalField(b, "PRIORITY", strconv.Itoa(e.prio.syslogSeverity()))
	b = appendJournalField(b, "SYSLOG_FACILITY", "3")
	if e.module != "" {
		b = appendJournalField(b, "LIBVIRT_SOURCE", e.module)
	}
	if e.pc != 0 {
		frame, _ := runtime.CallersFrames([]uintptr{e.pc}).Next()
		if frame.File != "" {
			b = appendJournalField(b, "CODE_FILE", frame.File)
			b = appendJournalField(b, "CODE_LINE", strconv.Itoa(frame.Line))
		}
		if frame.Function != "" {
			b = appendJournalField(b, "CODE_FUNC", frame.Function)
		}
	}
	return b
}

// appendJournalField writes KEY=value, or, when value has a newline, the
// binary form: KEY, newline, little-endian 64-bit length, value, newline.
func appendJournalField(b []byte, key, value string) []byte {
	b = append(b, key...)
	if strings.IndexByte(value, '\n') < 0 {
		b = append(b, '=')
	} else {
		b = append(b, '\n')
		b = binary.LittleEndian.AppendUint64(b, uint64(len(value)))
	}
	b = append(b, value...)
	return append(b, '\n')
}
