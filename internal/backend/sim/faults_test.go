package sim

import (
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults(`<other xmlns="urn:x"><fault start="fail"/></other>` +
		`<sim:fault xmlns:sim="urn:virtxend:sim" start="fail" shutdown="ignore" crash-after="1.5"` +
		` poweroff-after="1m" reboot-after="2s" delay="10ms" shutdown-delay="0" idle="yes"` +
		` detach="ignore" detach-delay="3s" dying="2.5"/>`)
	if err != nil {
		t.Fatal(err)
	}
	want := Faults{FailStart: true, IgnoreShutdown: true, CrashAfter: 1500 * time.Millisecond,
		PoweroffAfter: time.Minute, RebootAfter: 2 * time.Second, OpDelay: 10 * time.Millisecond,
		HasDelay: true, Idle: true, IgnoreDetach: true, DetachDelay: 3 * time.Second, Dying: 2500 * time.Millisecond}
	if f != want {
		t.Fatalf("got %+v", f)
	}
}

func TestParseFaultsNone(t *testing.T) {
	for _, in := range []string{"", "<a/>", `<fault start="fail"/>`, `<x:fault xmlns:x="urn:other" start="fail"/>`} {
		f, err := ParseFaults(in)
		if err != nil || f != (Faults{}) {
			t.Fatalf("%q: %+v %v", in, f, err)
		}
	}
}

func TestParseFaultsErrors(t *testing.T) {
	for _, in := range []string{
		`<s:fault xmlns:s="urn:virtxend:sim" start="maybe"/>`,
		`<s:fault xmlns:s="urn:virtxend:sim" crash-after="-1"/>`,
		`<s:fault xmlns:s="urn:virtxend:sim" delay="soon"/>`,
		`<s:fault xmlns:s="urn:virtxend:sim" delay="1e300"/>`,
		`<s:fault xmlns:s="urn:virtxend:sim" detach="maybe"/>`,
		`<s:fault xmlns:s="urn:virtxend:sim" detach-delay="-2"/>`,
		`<unclosed>`,
	} {
		if _, err := ParseFaults(in); err == nil {
			t.Fatalf("%q: no error", in)
		}
	}
}

func FuzzParseFaults(f *testing.F) {
	f.Add(`<sim:fault xmlns:sim="urn:virtxend:sim" start="fail" crash-after="3"/>`)
	f.Add(`<sim:fault xmlns:sim="urn:virtxend:sim" delay="1h2m" shutdown="ignore" idle="no"/>`)
	f.Add(`<sim:fault xmlns:sim="urn:virtxend:sim" detach="ignore" detach-delay="250ms"/>`)
	f.Add(`<a><b/></a><s:fault xmlns:s="urn:virtxend:sim" reboot-after="NaN"/>`)
	f.Add(`</metadata><x>`)
	f.Fuzz(func(t *testing.T, in string) {
		flt, err := ParseFaults(in)
		if err != nil {
			return
		}
		for _, d := range []time.Duration{flt.CrashAfter, flt.PoweroffAfter, flt.RebootAfter, flt.OpDelay, flt.ShutdownDelay} {
			if d < 0 || d > maxDuration {
				t.Fatalf("duration %v out of range", d)
			}
		}
	})
}
