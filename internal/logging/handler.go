package logging

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// ModuleKey is the attribute naming a record's module, the name filters
// match: logger.With(logging.ModuleKey, "rpc.server"). Only a top-level
// attribute counts. One given at the call itself overrides the logger's,
// but Enabled, which sees no attributes, judges by the logger's module,
// so prefer With.
const ModuleKey = "module"

// router is one immutable routing configuration. Changes build a new one
// and swap the pointer, so readers never lock to consult it.
type router struct {
	level   Priority // the default minimum, for modules no filter matches
	filters []Filter
	outputs []*output
	// lowest is the lowest priority any output writes; modulesLowest the
	// lowest any module may log at. Enabled uses them before the module is
	// known.
	lowest, modulesLowest Priority
	closed                bool
}

// output is an opened sink; it outlives routers when only filters change.
type output struct {
	spec OutputSpec
	sink sink
	// greeted: the first record an output takes is preceded by the
	// version and host lines, as libvirt's logInitMessage does.
	greeted sync.Once
}

func newRouter(level Priority, filters []Filter, outputs []*output) *router {
	r := &router{level: level, filters: filters, outputs: outputs}
	// With no outputs at all libvirt writes everything that passes the
	// filters to stderr.
	r.lowest = PriorityDebug
	if len(outputs) > 0 {
		r.lowest = PriorityError + 1
		for _, o := range outputs {
			r.lowest = min(r.lowest, o.spec.Priority)
		}
	}
	r.modulesLowest = level
	for _, f := range filters {
		r.modulesLowest = min(r.modulesLowest, f.Priority)
	}
	return r
}

// closedRouter drops everything.
func closedRouter(level Priority) *router {
	return &router{level: level, lowest: PriorityError + 1, modulesLowest: PriorityError + 1, closed: true}
}

// state is shared by a Logger and every handler derived from it.
type state struct {
	cur atomic.Pointer[router]
	// sinkMu is held for reading while records are written and for writing
	// while outputs are swapped, so an output is never closed under a
	// writer and no record is lost during a change.
	sinkMu   sync.RWMutex
	fallback *output // stderr, used when no outputs are defined
	pid      int
	greeting []string // the lines each output starts with
}

// write sends e to o, greeting o first if e is its first record.
func (st *state) write(o *output, e *entry) {
	o.greeted.Do(func() {
		for _, text := range st.greeting {
			o.sink.write(&entry{time: e.time, prio: PriorityInfo, text: text, pid: st.pid})
		}
	})
	o.sink.write(e)
}

// handler is the slog.Handler: filters by module, then writes to every
// output whose priority admits the record.
type handler struct {
	st     *state
	module string
	attrs  []byte // preformatted " key=value" from WithAttrs
	prefix string // open groups, "a.b."
	cache  atomic.Pointer[threshold]
}

// threshold caches the module's minimum priority for one router.
type threshold struct {
	r *router
	p Priority
}

func (h *handler) minimum(r *router) Priority {
	if c := h.cache.Load(); c != nil && c.r == r {
		return c.p
	}
	p := filterPriority(r.filters, h.module, r.level)
	h.cache.Store(&threshold{r: r, p: p})
	return p
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool {
	r := h.st.cur.Load()
	p := PriorityOf(l)
	if p < r.lowest {
		return false
	}
	if h.module != "" {
		return p >= h.minimum(r)
	}
	return p >= r.modulesLowest
}

func (h *handler) Handle(_ context.Context, rec slog.Record) error {
	module := h.module
	if h.prefix == "" {
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == ModuleKey {
				module = a.Value.Resolve().String()
			}
			return true
		})
	}
	p := PriorityOf(rec.Level)

	h.st.sinkMu.RLock()
	defer h.st.sinkMu.RUnlock()
	r := h.st.cur.Load()
	if r.closed || p < r.lowest || !h.admits(r, module, p) {
		return nil
	}
	e := &entry{time: rec.Time, prio: p, module: module, pc: rec.PC, pid: h.st.pid}
	if e.time.IsZero() {
		e.time = time.Now()
	}
	e.text = string(h.appendText(make([]byte, 0, 128), rec))
	if len(r.outputs) == 0 {
		h.st.write(h.st.fallback, e)
	}
	for _, o := range r.outputs {
		if p >= o.spec.Priority {
			h.st.write(o, e)
		}
	}
	return nil
}

func (h *handler) admits(r *router, module string, p Priority) bool {
	if module == h.module {
		return p >= h.minimum(r)
	}
	return p >= filterPriority(r.filters, module, r.level)
}

// appendText is the message followed by the attributes, the module aside.
func (h *handler) appendText(b []byte, rec slog.Record) []byte {
	b = append(b, rec.Message...)
	b = append(b, h.attrs...)
	rec.Attrs(func(a slog.Attr) bool {
		if h.prefix == "" && a.Key == ModuleKey {
			return true
		}
		b = appendAttr(b, h.prefix, a)
		return true
	})
	return b
}

func (h *handler) clone() *handler {
	return &handler{st: h.st, module: h.module, attrs: h.attrs[:len(h.attrs):len(h.attrs)], prefix: h.prefix}
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	n := h.clone()
	for _, a := range attrs {
		if n.prefix == "" && a.Key == ModuleKey {
			n.module = a.Value.Resolve().String()
			continue
		}
		n.attrs = appendAttr(n.attrs, n.prefix, a)
	}
	return n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := h.clone()
	n.prefix += name + "."
	return n
}

// appendAttr writes " prefix.key=value", flattening groups as slog's text
// handler does and skipping empty attributes and groups.
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			b = appendAttr(b, prefix, ga)
		}
		return b
	}
	b = append(b, ' ')
	b = appendMaybeQuoted(b, prefix+a.Key)
	b = append(b, '=')
	return appendMaybeQuoted(b, valueString(a.Value))
}

func valueString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.String()
}

func appendMaybeQuoted(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}
