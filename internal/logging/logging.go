// Package logging implements libvirt's log_level, log_filters and
// log_outputs on top of log/slog, changeable while the daemon runs.
//
// A record's module is its "module" attribute (Slog().With("module",
// "rpc.server")). The first filter whose pattern matches the module sets
// the minimum priority, else the default level does; the record then goes
// to every output whose own priority admits it. Filters and outputs read
// back exactly as libvirt prints them, since virt-admin shows them.
package logging

import (
	"errors"
	"log/slog"
	"os"
	"sync"

	"virtxend/internal/buildinfo"
)

// Settings is what the config file, the environment and -v decide.
type Settings struct {
	Level   uint   // 1 debug, 2 info, 3 warning, 4 error; 0 = default (3)
	Filters string // libvirt filter syntax, e.g. "1:rpc 3:driver"
	Outputs string // libvirt output syntax, e.g. "3:stderr 1:file:/var/log/x.log"
	// Daemonized and LogDir decide the default output when Outputs is "".
	// LogDir "" means DefaultLogDir.
	Daemonized bool
	LogDir     string
	// Verbose is -v: it raises the level to info unless it is already
	// info or debug. It applies after the environment.
	Verbose bool
	// Getenv reads LIBVIRT_DEBUG, LIBVIRT_LOG_FILTERS and
	// LIBVIRT_LOG_OUTPUTS, which override the config; nil means os.Getenv.
	Getenv func(string) string

	sys *system // tests: fake terminal, journald and syslog sockets
}

// Logger owns the outputs and filters; the slog.Logger it hands out follows
// live changes.
type Logger struct {
	st            *state
	log           *slog.Logger
	sys           *system
	defaultOutput string

	setMu  sync.Mutex // one change at a time
	closed bool
	// setFilters and setOutputs: SetFilters or SetOutputs (virt-admin)
	// chose what runs, and a reload keeps it unless the file's own value
	// was edited.
	setFilters, setOutputs bool
}

// Edited names the settings whose value in the configuration file changed
// since the last load.
type Edited struct{ Filters, Outputs bool }

// errClosed is returned by changes after Close.
var errClosed = errors.New("logging: logger is closed")

// New applies s as libvirt's virDaemonSetupLogging does (command line >
// environment > config), chooses the default output, and opens the outputs.
// Errors are libvirt's, e.g. "invalid argument: Invalid priority '7' for
// filter '7:rpc'".
func New(s Settings) (*Logger, error) {
	sys := s.sys.withDefaults()
	level, filters, outputs, def, err := resolve(s, sys)
	if err != nil {
		return nil, err
	}
	opened, err := openOutputs(outputs, sys)
	if err != nil {
		return nil, err
	}
	st := &state{
		fallback: &output{spec: OutputSpec{Priority: PriorityDebug}, sink: &fdSink{w: sys.stderr}},
		pid:      os.Getpid(),
	}
	if !sys.noGreeting {
		st.greeting = greeting()
	}
	st.cur.Store(newRouter(level, filters, opened))
	return &Logger{
		st:            st,
		log:           slog.New(&handler{st: st}),
		sys:           sys,
		defaultOutput: def,
	}, nil
}

// resolve layers config, environment and -v, then fills in the default
// output when none was given.
func resolve(s Settings, sys *system) (Priority, []Filter, []OutputSpec, string, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	level, err := levelFromConfig(s.Level)
	if err != nil {
		return 0, nil, nil, "", err
	}
	filters, err := ParseFilters(s.Filters)
	if err != nil {
		return 0, nil, nil, "", err
	}
	outputs, err := ParseOutputs(s.Outputs)
	if err != nil {
		return 0, nil, nil, "", err
	}
	if v := getenv(EnvDebug); v != "" {
		if level, err = ParseLevel(v); err != nil {
			return 0, nil, nil, "", err
		}
	}
	if v := getenv(EnvFilters); v != "" {
		if filters, err = ParseFilters(v); err != nil {
			return 0, nil, nil, "", err
		}
	}
	if v := getenv(EnvOutputs); v != "" {
		if outputs, err = ParseOutputs(v); err != nil {
			return 0, nil, nil, "", err
		}
	}
	if s.Verbose && level > PriorityInfo {
		level = PriorityInfo
	}
	def := defaultOutput(level, s.Daemonized, s.LogDir, sys)
	if len(outputs) == 0 {
		if outputs, err = ParseOutputs(def); err != nil {
			return 0, nil, nil, "", err
		}
	}
	return level, filters, outputs, def, nil
}

// openOutputs opens every output, or none: on error the ones already
// opened are closed.
func openOutputs(specs []OutputSpec, sys *system) ([]*output, error) {
	opened := make([]*output, 0, len(specs))
	for _, spec := range specs {
		sk, err := openSink(spec, sys)
		if err != nil {
			closeOutputs(opened)
			return nil, err
		}
		opened = append(opened, &output{spec: spec, sink: sk})
	}
	return opened, nil
}

func openSink(spec OutputSpec, sys *system) (sink, error) {
	switch spec.Destination {
	case ToStderr:
		return &fdSink{w: sys.stderr}, nil
	case ToFile:
		return openFileSink(spec.Name)
	case ToSyslog:
		return newSyslogSink(spec.Name, sys.syslogSocket), nil
	default:
		return newJournalSink(sys.journalSocket, sys.shmDir)
	}
}

func closeOutputs(outputs []*output) error {
	var errs []error
	for _, o := range outputs {
		errs = append(errs, o.sink.close())
	}
	return errors.Join(errs...)
}

// greeting is libvirt's VIR_LOG_VERSION_STRING and hostname lines, which
// start every output so a log file says what wrote it and where.
func greeting() []string {
	lines := []string{"libvirt version: " + buildinfo.Version + ", package: " + buildinfo.Program}
	if host, err := os.Hostname(); err == nil {
		lines = append(lines, "hostname: "+host)
	}
	return lines
}

// Slog returns the logger to pass down; use .With("module", ...) for filters.
func (l *Logger) Slog() *slog.Logger { return l.log }

// SetFilters replaces the filters; "" clears them. On error nothing changes.
func (l *Logger) SetFilters(filters string) error {
	list, err := ParseFilters(filters)
	if err != nil {
		return err
	}
	l.setMu.Lock()
	defer l.setMu.Unlock()
	if l.closed {
		return errClosed
	}
	cur := l.st.cur.Load()
	l.swap(newRouter(cur.level, list, cur.outputs))
	l.setFilters = true
	return nil
}

// SetOutputs replaces the outputs; "" restores the default output. The
// new outputs are opened before the old ones close; on error nothing
// changes.
func (l *Logger) SetOutputs(outputs string) error {
	if outputs == "" {
		outputs = l.defaultOutput
	}
	specs, err := ParseOutputs(outputs)
	if err != nil {
		return err
	}
	return l.install(func(*router) []OutputSpec { return specs }, func(cur *router, opened []*output) *router {
		l.setOutputs = true
		return newRouter(cur.level, cur.filters, opened)
	})
}

// Reconfigure applies new settings (a SIGHUP reload) with the same
// precedence as New: level, filters and outputs change together or, on
// error, not at all. Filters or outputs set through SetFilters or
// SetOutputs stay unless edited says the file's value changed. Outputs
// are reopened, which also lets a rotated log file be picked up.
func (l *Logger) Reconfigure(s Settings, edited Edited) error {
	level, filters, specs, def, err := resolve(s, l.sys)
	if err != nil {
		return err
	}
	var keepFilters, keepOutputs bool
	choose := func(cur *router) []OutputSpec {
		keepFilters, keepOutputs = l.setFilters && !edited.Filters, l.setOutputs && !edited.Outputs
		if keepOutputs {
			return specsOf(cur.outputs)
		}
		return specs
	}
	return l.install(choose, func(cur *router, opened []*output) *router {
		if keepFilters {
			filters = cur.filters
		}
		l.defaultOutput = def
		l.setFilters, l.setOutputs = keepFilters, keepOutputs
		return newRouter(level, filters, opened)
	})
}

// install opens the outputs choose picks and swaps in the router build
// makes from them, closing the outputs it replaces; on error nothing
// changes. Both run with setMu held, seeing the current router.
func (l *Logger) install(choose func(cur *router) []OutputSpec, build func(cur *router, opened []*output) *router) error {
	l.setMu.Lock()
	defer l.setMu.Unlock()
	if l.closed {
		return errClosed
	}
	cur := l.st.cur.Load()
	opened, err := openOutputs(choose(cur), l.sys)
	if err != nil {
		return err
	}
	l.swap(build(cur, opened))
	_ = closeOutputs(cur.outputs)
	return nil
}

// swap installs r once no record is being written; called with setMu held.
func (l *Logger) swap(r *router) {
	l.st.sinkMu.Lock()
	l.st.cur.Store(r)
	l.st.sinkMu.Unlock()
}

// Filters returns the filters as libvirt prints them ("1:*rpc* "), or ""
// when there are none.
func (l *Logger) Filters() string { return FormatFilters(l.st.cur.Load().filters) }

// Outputs returns the outputs as libvirt prints them ("3:stderr").
func (l *Logger) Outputs() string {
	return FormatOutputs(specsOf(l.st.cur.Load().outputs))
}

func specsOf(outputs []*output) []OutputSpec {
	specs := make([]OutputSpec, len(outputs))
	for i, o := range outputs {
		specs[i] = o.spec
	}
	return specs
}

// NumFilters and NumOutputs are the counts the admin protocol returns
// beside the strings.
func (l *Logger) NumFilters() int { return len(l.st.cur.Load().filters) }

// NumOutputs: see NumFilters.
func (l *Logger) NumOutputs() int { return len(l.st.cur.Load().outputs) }

// Level is the default priority in force.
func (l *Logger) Level() Priority { return l.st.cur.Load().level }

// DefaultOutput is the output SetOutputs("") restores, e.g. "3:stderr".
func (l *Logger) DefaultOutput() string { return l.defaultOutput }

// Close flushes and closes file outputs; records logged afterwards are
// dropped.
func (l *Logger) Close() error {
	l.setMu.Lock()
	defer l.setMu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	cur := l.st.cur.Load()
	l.swap(closedRouter(cur.level))
	return closeOutputs(cur.outputs)
}
