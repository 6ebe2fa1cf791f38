package logging

import (
	"log/syslog"
	"sync"
)

// syslogSink sends to the local syslog daemon with the output's name as
// tag. Like libvirt's openlog, defining it never fails: when no syslog
// socket exists the records are dropped and the next record tries again.
type syslogSink struct {
	mu      sync.Mutex
	network string // "" lets log/syslog search /dev/log and friends
	addr    string
	tag     string
	w       *syslog.Writer
	closed  bool
}

func newSyslogSink(tag, socket string) *syslogSink {
	s := &syslogSink{tag: tag}
	if socket != "" {
		s.network, s.addr = "unixgram", socket
	}
	s.mu.Lock()
	s.connect()
	s.mu.Unlock()
	return s
}

// connect is called with mu held.
func (s *syslogSink) connect() {
	if s.w != nil {
		return
	}
	w, err := syslog.Dial(s.network, s.addr, syslog.LOG_DAEMON|syslog.LOG_INFO, s.tag)
	if err == nil {
		s.w = w
	}
}

func (s *syslogSink) write(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.connect()
	if s.w == nil {
		return
	}
	msg := string(e.line())
	switch e.prio {
	case PriorityDebug:
		_ = s.w.Debug(msg)
	case PriorityInfo:
		_ = s.w.Info(msg)
	case PriorityWarning:
		_ = s.w.Warning(msg)
	default:
		_ = s.w.Err(msg)
	}
}

func (s *syslogSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	return err
}
