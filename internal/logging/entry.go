package logging

import (
	"strconv"
	"time"
)

// entry is one record that passed the filters, shared by every output it
// goes to. It is built and used by one goroutine.
type entry struct {
	time   time.Time
	prio   Priority
	module string
	text   string // the message followed by " key=value" attributes
	pc     uintptr
	pid    int

	body []byte // lazily formatted "PID: level : module: text"
}

// timestampLayout is libvirt's virTimeStringNowRaw, always in UTC.
const timestampLayout = "2006-01-02 15:04:05.000+0000"

// line is the libvirt-style text line without its trailing newline:
// "PID: level : module: text". libvirt prints the thread id and the
// function:line where this prints the pid and the module.
func (e *entry) line() []byte {
	if e.body == nil {
		b := strconv.AppendInt(nil, int64(e.pid), 10)
		b = append(b, ": "...)
		b = append(b, e.prio.String()...)
		b = append(b, " : "...)
		if e.module != "" {
			b = append(b, e.module...)
			b = append(b, ": "...)
		}
		e.body = append(b, e.text...)
	}
	return e.body
}

// stamped is the full line an fd output writes, newline included.
func (e *entry) stamped() []byte {
	b := make([]byte, 0, len(timestampLayout)+2+len(e.line())+1)
	b = e.time.UTC().AppendFormat(b, timestampLayout)
	b = append(b, ": "...)
	b = append(b, e.line()...)
	return append(b, '\n')
}
