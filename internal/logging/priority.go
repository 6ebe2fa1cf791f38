package logging

import (
	"log/slog"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// Priority is libvirt's virLogPriority: 1 debug, 2 info, 3 warning, 4 error.
type Priority int

// libvirt's priorities; DefaultPriority is VIR_LOG_DEFAULT.
const (
	PriorityDebug   Priority = 1
	PriorityInfo    Priority = 2
	PriorityWarning Priority = 3
	PriorityError   Priority = 4

	DefaultPriority = PriorityWarning
)

// String is the word libvirt prints in a log line.
func (p Priority) String() string {
	switch p {
	case PriorityDebug:
		return "debug"
	case PriorityInfo:
		return "info"
	case PriorityWarning:
		return "warning"
	case PriorityError:
		return "error"
	}
	return "unknown"
}

// SlogLevel is the lowest slog level that maps to p.
func (p Priority) SlogLevel() slog.Level {
	switch p {
	case PriorityDebug:
		return slog.LevelDebug
	case PriorityInfo:
		return slog.LevelInfo
	case PriorityWarning:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// PriorityOf maps a slog level onto libvirt's four priorities; levels
// between slog's named ones round down, so slog.LevelInfo+2 is info.
func PriorityOf(l slog.Level) Priority {
	switch {
	case l < slog.LevelInfo:
		return PriorityDebug
	case l < slog.LevelWarn:
		return PriorityInfo
	case l < slog.LevelError:
		return PriorityWarning
	}
	return PriorityError
}

// syslogSeverity is the RFC 5424 severity journald and syslog expect.
func (p Priority) syslogSeverity() int {
	switch p {
	case PriorityDebug:
		return 7
	case PriorityInfo:
		return 6
	case PriorityWarning:
		return 4
	}
	return 3
}

func (p Priority) valid() bool { return p >= PriorityDebug && p <= PriorityError }

// parsePriorityNumber reads a priority the way libvirt does, with
// virStrToLong_uip. Range checking is left to the caller, whose message
// differs per use.
func parsePriorityNumber(s string) (Priority, bool) {
	v, ok := virstring.ToUIntP(s)
	return Priority(v), ok
}

// ParseLevel reads LIBVIRT_DEBUG's value: a number 1-4 or its word.
func ParseLevel(s string) (Priority, error) {
	switch s {
	case "1", "debug":
		return PriorityDebug, nil
	case "2", "info":
		return PriorityInfo, nil
	case "3", "warning":
		return PriorityWarning, nil
	case "4", "error":
		return PriorityError, nil
	}
	return 0, invalidArg("Failed to set logging priority, argument '%s' is invalid", s)
}

// levelFromConfig checks log_level; 0 means "keep the default".
func levelFromConfig(level uint) (Priority, error) {
	if level == 0 {
		return DefaultPriority, nil
	}
	p := Priority(level)
	if level > uint(PriorityError) || !p.valid() {
		return 0, invalidArg("Failed to set logging priority, argument '%d' is invalid", level)
	}
	return p, nil
}

// invalidArg is how virlog.c reports a bad setting: VIR_FROM_NONE with
// VIR_ERR_INVALID_ARG, so clients print "invalid argument: ...".
func invalidArg(format string, args ...any) error {
	return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, format, args...)
}
