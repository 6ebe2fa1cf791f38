package logging

import (
	"io"
	"os"
	"path/filepath"
	"sync"

	"virtxend/internal/virerr"
)

// sink is an opened output. write must be safe for concurrent use and
// must drop records once the sink is closed.
type sink interface {
	write(e *entry)
	close() error
}

// fdSink writes libvirt-style text lines to stderr or a file.
type fdSink struct {
	mu     sync.Mutex
	w      io.Writer
	file   *os.File // nil for stderr, which is never closed
	closed bool
}

func (s *fdSink) write(e *entry) {
	line := e.stamped()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		// One Write per line keeps lines whole in O_APPEND files.
		_, _ = s.w.Write(line)
	}
}

func (s *fdSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}

// openFileSink opens path for appending, creating it 0600 and its missing
// directories 0700. The error is libvirt's system error for it.
func openFileSink(path string) (*fdSink, error) {
	_ = os.MkdirAll(filepath.Dir(path), 0o700)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, systemError(err, "failed to open %s", path)
	}
	return &fdSink{w: f, file: f}, nil
}

// systemError is virReportSystemError: the detail, ": ", and strerror.
func systemError(err error, format string, args ...any) error {
	return virerr.System(virerr.FromNone, err, format, args...)
}
