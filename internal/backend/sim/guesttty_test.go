package sim

import (
	"bytes"
	"strings"
	"testing"

	"virtxend/internal/backend"
)

func TestGuestTTYEchoesAndAnswersLines(t *testing.T) {
	g := &guestTTY{name: "g1", dev: "hvc0"}
	b := string(g.banner(3, backend.UUID{1}))
	for _, want := range []string{"'g1'", "domid 3", "hvc0", "g1# "} {
		if !strings.Contains(b, want) {
			t.Errorf("banner %q lacks %q", b, want)
		}
	}
	out, _, ok := g.input([]byte("hellx\x7fo\r\n"))
	if ok || string(out) != "hellx\b \bo\r\nhello\r\ng1# " {
		t.Fatalf("input = %q, %v", out, ok)
	}
	out, _, _ = g.input([]byte("\r"))
	if string(out) != "\r\ng1# " {
		t.Fatalf("empty line = %q", out)
	}
	out, _, _ = g.input([]byte("abc\x03"))
	if string(out) != "abc^C\r\ng1# " {
		t.Fatalf("^C = %q", out)
	}
}

func TestGuestTTYPowerOffAndReboot(t *testing.T) {
	for _, tc := range []struct {
		line   string
		reason backend.ShutdownReason
		says   string
	}{{"poweroff", backend.ReasonPoweroff, "Power down"}, {" reboot ", backend.ReasonReboot, "Restarting"}} {
		g := &guestTTY{name: "g", dev: "ttyS0"}
		out, reason, ok := g.input([]byte(tc.line + "\rignored\r"))
		if !ok || reason != tc.reason || !strings.Contains(string(out), tc.says) || strings.Contains(string(out), "ignored") {
			t.Errorf("%q: %q, %v, %v", tc.line, out, reason, ok)
		}
	}
}

func TestGuestTTYLineIsBounded(t *testing.T) {
	g := &guestTTY{name: "g", dev: "hvc0"}
	out, _, _ := g.input(bytes.Repeat([]byte("x"), 3*maxLine))
	if len(out) != maxLine || len(g.line) != maxLine {
		t.Fatalf("echoed %d, kept %d; want %d", len(out), len(g.line), maxLine)
	}
}

// FuzzGuestTTY: whatever is typed, the guest never panics, keeps its line
// bounded, and acts at most on a whole "poweroff" or "reboot" line: one
// typed with the word's letters in order, between which backspaces, ^C
// and the control characters the guest ignores may come.
func FuzzGuestTTY(f *testing.F) {
	f.Add([]byte("poweroff\r"))
	f.Add([]byte("reboot\n"))
	f.Add([]byte("ab\x7f\x7f\x7f\x03\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		g := &guestTTY{name: "g", dev: "hvc0"}
		_, reason, ok := g.input(in)
		if len(g.line) > maxLine {
			t.Fatalf("line grew to %d", len(g.line))
		}
		if ok && reason != backend.ReasonPoweroff && reason != backend.ReasonReboot {
			t.Fatalf("asked for %v", reason)
		}
		if ok && !typed(in, "poweroff") && !typed(in, "reboot") {
			t.Fatalf("acted on %q", in)
		}
	})
}

// typed reports whether word's letters occur in in, in order.
func typed(in []byte, word string) bool {
	for _, c := range in {
		if len(word) > 0 && c == word[0] {
			word = word[1:]
		}
	}
	return word == ""
}
