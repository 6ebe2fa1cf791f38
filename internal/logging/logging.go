// Package logging implements libvirt's log_level, log_filters and
// log_outputs on top of log/slog, changeable while the daemon runs.
//
// STUB: the signatures are the contract; filters, outputs and the default
// output choice are filled in by the logging work.
package logging

import (
	"log/slog"
	"os"
)

// Settings is what the config file, the environment and -v decide.
type Settings struct {
	Level   uint   // 1 debug, 2 info, 3 warning, 4 error; 0 = default (3)
	Filters string // libvirt filter syntax, e.g. "1:rpc 3:driver"
	Outputs string // libvirt output syntax, e.g. "3:stderr 1:file:/var/log/x.log"
	// Daemonized and LogDir decide the default output when Outputs is "".
	Daemonized bool
	LogDir     string
}

// Logger owns the outputs and filters; the slog.Logger it hands out follows
// live changes.
type Logger struct{ log *slog.Logger }

// New validates s and opens its outputs.
func New(s Settings) (*Logger, error) {
	return &Logger{log: slog.New(slog.NewTextHandler(os.Stderr, nil))}, nil
}

// Slog returns the logger to pass down; use .With("module", ...) for filters.
func (l *Logger) Slog() *slog.Logger { return l.log }

// SetFilters replaces the filters; "" clears them.
func (l *Logger) SetFilters(filters string) error { return nil }

// SetOutputs replaces the outputs; "" restores the default output.
func (l *Logger) SetOutputs(outputs string) error { return nil }

// Filters returns the filters as libvirt prints them.
func (l *Logger) Filters() string { return "" }

// Outputs returns the outputs as libvirt prints them.
func (l *Logger) Outputs() string { return "" }

// Close flushes and closes file outputs.
func (l *Logger) Close() error { return nil }
