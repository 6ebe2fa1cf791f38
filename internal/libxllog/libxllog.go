// Package libxllog writes libxl's own log messages where libvirt's libxl
// driver writes them (libxl_logger.c), for the admins and tools that read
// them there (Debian's logrotate rule for /var/log/libvirt/libxl/*.log):
// libxl-driver.log in the driver's log directory, and NAME.log for the
// messages libxl makes about a guest ("... Domain N:...") while the guest
// runs, which also gets "Domain start: " and libxl's configuration of the
// guest at each start. A line is libvirt's: the time (UTC, milliseconds),
// libxl's context, the message, and the error libxl names, if any.
package libxllog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Files are the log files of one log directory. Handler gives them
// libxl's messages (an slog.Handler, given the record's "context" and
// "errno" attributes as the libxl backend makes them); OpenDomain and
// CloseDomain follow the guests.
type Files struct {
	dir  string
	min  slog.Level
	mu   sync.Mutex
	main *os.File
	doms map[int]*os.File
}

// Open opens (appends to) dir/libxl-driver.log; the messages below min
// are left out, as libvirt leaves out those below its log_level.
func Open(dir string, min slog.Level) (*Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "libxl-driver.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &Files{dir: dir, min: min, main: f, doms: map[int]*os.File{}}, nil
}

// OpenDomain opens (appends to) the log of guest name, domain id, for its
// messages from now on; startJSON, when not empty, is written as libvirt
// writes the configuration of a guest it starts.
func (fs *Files) OpenDomain(id int, name, startJSON string) {
	f, err := os.OpenFile(filepath.Join(fs.dir, name+".log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fs.write("", fmt.Sprintf("cannot open the log of domain %d", id), err.Error())
		return
	}
	if startJSON != "" {
		fmt.Fprintf(f, "Domain start: %s\n", startJSON)
	}
	fs.mu.Lock()
	old := fs.doms[id]
	fs.doms[id] = f
	fs.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// CloseDomain closes domain id's log: its later messages go to the main log.
func (fs *Files) CloseDomain(id int) {
	fs.mu.Lock()
	f := fs.doms[id]
	delete(fs.doms, id)
	fs.mu.Unlock()
	if f != nil {
		f.Close()
	}
}

// Close closes every file.
func (fs *Files) Close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for id, f := range fs.doms {
		f.Close()
		delete(fs.doms, id)
	}
	return fs.main.Close()
}

// domainOf finds the domid libxl names a message's guest by (": Domain N:").
var domainOf = regexp.MustCompile(`: Domain (\d+):`)

// write writes one of libxl's messages to its guest's log, if open, or
// to the main log (libvirt_vmessage).
func (fs *Files) write(context, msg, errText string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.main
	if m := domainOf.FindStringSubmatch(msg); m != nil {
		if id, err := strconv.Atoi(m[1]); err == nil && fs.doms[id] != nil {
			f = fs.doms[id]
		}
	}
	fs.line(f, context, msg, errText)
}

func (fs *Files) line(f *os.File, context, msg, errText string) {
	var b strings.Builder
	b.WriteString(time.Now().UTC().Format("2006-01-02 15:04:05.000") + "+0000: ")
	if context != "" {
		b.WriteString(context + ": ")
	}
	b.WriteString(msg)
	if errText != "" {
		b.WriteString(": " + errText)
	}
	b.WriteByte('\n')
	f.WriteString(b.String())
}

// Handler is the slog.Handler that writes libxl's messages to the files.
func (fs *Files) Handler() slog.Handler { return handler{fs: fs} }

type handler struct {
	fs    *Files
	attrs []slog.Attr
}

func (h handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.fs.min }

func (h handler) Handle(_ context.Context, r slog.Record) error {
	var ctxName, errText string
	take := func(a slog.Attr) bool {
		switch a.Key {
		case "context":
			ctxName = a.Value.String()
		case "errno":
			errText = a.Value.String()
		}
		return true
	}
	for _, a := range h.attrs {
		take(a)
	}
	r.Attrs(take)
	h.fs.write(ctxName, r.Message, errText)
	return nil
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{fs: h.fs, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

// WithGroup changes nothing: the lines carry no attributes but the two.
func (h handler) WithGroup(string) slog.Handler { return h }
