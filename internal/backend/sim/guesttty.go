package sim

import (
	"bytes"
	"fmt"

	"virtxend/internal/backend"
)

// maxLine bounds the line a simulated guest collects; what is typed
// beyond it is dropped, as a terminal's line buffer fills.
const maxLine = 256

// guestTTY is what the simulated guest does on one of its consoles: a
// boot banner naming itself, then a shell that echoes what is typed,
// answers a line with the same line, and acts on "poweroff" and "reboot".
// It sees bytes as a raw terminal delivers them (Enter is "\r").
type guestTTY struct {
	name string // the guest's name
	dev  string // the console as the guest calls it: hvc0, ttyS0
	line []byte
	cr   bool // the last byte ended a line with "\r"
}

// banner is what the guest prints on this console when it boots.
func (g *guestTTY) banner(id backend.DomID, uuid backend.UUID) []byte {
	return fmt.Appendf(nil, "\r\nBooting simulated Xen guest '%s' (domid %d, uuid %s) on %s\r\n"+
		"%s: type 'poweroff' or 'reboot'; any other line is echoed back.\r\n%s",
		g.name, id, uuid, g.dev, g.name, g.prompt())
}

func (g *guestTTY) prompt() string { return g.name + "# " }

// nmi is what the guest prints when it is sent an NMI: Linux's report of
// one it has no handler for.
func (g *guestTTY) nmi() []byte {
	return fmt.Appendf(nil, "\r\nUhhuh. NMI received for unknown reason 00 on CPU 0.\r\n"+
		"Dazed and confused, but trying to continue\r\n%s", g.prompt())
}

// input consumes typed bytes and returns what the guest prints in answer,
// and the shutdown it asks for (ok false for none), after which it reads
// no more.
func (g *guestTTY) input(in []byte) (out []byte, reason backend.ShutdownReason, ok bool) {
	for _, c := range in {
		wasCR := g.cr
		g.cr = c == '\r'
		switch {
		case c == '\n' && wasCR:
			// the "\n" of a "\r\n": the line has ended already
		case c == '\r' || c == '\n':
			var answer []byte
			answer, reason, ok = g.endLine()
			out = append(out, answer...)
			if ok {
				return out, reason, true
			}
		case c == 0x7f || c == '\b':
			if len(g.line) > 0 {
				g.line = g.line[:len(g.line)-1]
				out = append(out, "\b \b"...)
			}
		case c == 0x03: // ^C
			g.line = g.line[:0]
			out = append(out, "^C\r\n"+g.prompt()...)
		case c < ' ':
			// other control characters are ignored
		case len(g.line) < maxLine:
			g.line = append(g.line, c)
			out = append(out, c)
		}
	}
	return out, 0, false
}

// endLine answers the line typed so far.
func (g *guestTTY) endLine() ([]byte, backend.ShutdownReason, bool) {
	line := string(bytes.TrimSpace(g.line))
	g.line = g.line[:0]
	out := []byte("\r\n")
	switch line {
	case "poweroff":
		return append(out, "reboot: Power down\r\n"...), backend.ReasonPoweroff, true
	case "reboot":
		return append(out, "reboot: Restarting system\r\n"...), backend.ReasonReboot, true
	case "":
	default:
		out = append(append(out, line...), "\r\n"...)
	}
	return append(out, g.prompt()...), 0, false
}
