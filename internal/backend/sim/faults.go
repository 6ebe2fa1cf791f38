package sim

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Namespace is the XML namespace of the simulator's per-guest settings in a
// domain's <metadata>. Example, every attribute optional:
//
//	<metadata>
//	  <sim:fault xmlns:sim="urn:virtxend:sim"
//	      start="fail"            start fails as libxl would
//	      shutdown="ignore"       shutdown and reboot requests are ignored
//	      shutdown-delay="2s"     the guest acts on requests after 2 s
//	      crash-after="30"        the guest crashes 30 s after it starts
//	      poweroff-after="1m"     ... powers itself off
//	      reboot-after="90s"      ... reboots itself
//	      delay="500ms"           every operation on it takes this long
//	      detach="ignore"         it never lets a hot-unplugged device go
//	      detach-delay="2s"       it lets one go after 2 s
//	      idle="yes"              reported as blocked rather than running
//	      save="fail"             a save fails half-way
//	      save-rate="50"          a save or dump writes 50 MiB of its memory
//	                              per second (DefaultSaveRate unless set)
//	      dying="5s"/>            once destroyed, it is listed as dying, its
//	                              memory still held, for 5 s before it goes
//	</metadata>
//
// Durations are seconds ("30", "0.5") or Go durations ("1m30s").
const Namespace = "urn:virtxend:sim"

// Faults is the parsed <sim:fault> element. It is stored with the guest, so
// it applies for the guest's whole life even across daemon restarts.
type Faults struct {
	FailStart      bool          `json:"fail_start,omitempty"`
	IgnoreShutdown bool          `json:"ignore_shutdown,omitempty"`
	ShutdownDelay  time.Duration `json:"shutdown_delay,omitempty"`
	HasDelay       bool          `json:"has_shutdown_delay,omitempty"`
	CrashAfter     time.Duration `json:"crash_after,omitempty"`
	PoweroffAfter  time.Duration `json:"poweroff_after,omitempty"`
	RebootAfter    time.Duration `json:"reboot_after,omitempty"`
	OpDelay        time.Duration `json:"op_delay,omitempty"`
	Idle           bool          `json:"idle,omitempty"`
	IgnoreDetach   bool          `json:"ignore_detach,omitempty"`
	DetachDelay    time.Duration `json:"detach_delay,omitempty"`
	FailSave       bool          `json:"fail_save,omitempty"`
	SaveRate       int           `json:"save_rate,omitempty"`
	// Dying is how long the guest stays listed as dying after its
	// destroy, as Xen lists a domain until its last page is released.
	Dying time.Duration `json:"dying,omitempty"`
}

// saveRate is the MiB of guest memory a save or dump writes per second.
func (f Faults) saveRate() int {
	if f.SaveRate > 0 {
		return f.SaveRate
	}
	return DefaultSaveRate
}

// ParseFaults reads the first <fault> element in the simulator namespace
// among the children of a <metadata> element's inner XML.
func ParseFaults(inner string) (Faults, error) {
	dec := xml.NewDecoder(strings.NewReader("<metadata>" + inner + "</metadata>"))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return Faults{}, nil
		}
		if err != nil {
			return Faults{}, fmt.Errorf("metadata: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Space == Namespace && t.Name.Local == "fault" {
				return faultsFromAttrs(t.Attr)
			}
		case xml.EndElement:
			depth--
		}
	}
}

func faultsFromAttrs(attrs []xml.Attr) (Faults, error) {
	var f Faults
	for _, a := range attrs {
		if a.Name.Space != "" && a.Name.Space != Namespace {
			continue
		}
		var err error
		switch a.Name.Local {
		case "start":
			f.FailStart, err = enumAttr(a, "fail", "ok")
		case "shutdown":
			f.IgnoreShutdown, err = enumAttr(a, "ignore", "obey")
		case "idle":
			f.Idle, err = enumAttr(a, "yes", "no")
		case "shutdown-delay":
			f.ShutdownDelay, err = parseDuration(a.Value)
			f.HasDelay = err == nil
		case "crash-after":
			f.CrashAfter, err = parseDuration(a.Value)
		case "poweroff-after":
			f.PoweroffAfter, err = parseDuration(a.Value)
		case "reboot-after":
			f.RebootAfter, err = parseDuration(a.Value)
		case "delay":
			f.OpDelay, err = parseDuration(a.Value)
		case "detach":
			f.IgnoreDetach, err = enumAttr(a, "ignore", "obey")
		case "save":
			f.FailSave, err = enumAttr(a, "fail", "ok")
		case "save-rate":
			f.SaveRate, err = strconv.Atoi(a.Value)
			if err == nil && (f.SaveRate <= 0 || f.SaveRate > 1<<20) {
				err = fmt.Errorf("%q out of range", a.Value)
			}
		case "detach-delay":
			f.DetachDelay, err = parseDuration(a.Value)
		case "dying":
			f.Dying, err = parseDuration(a.Value)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("sim:fault %s: %w", a.Name.Local, err)
		}
	}
	return f, nil
}

// inRange reports whether every duration is one parseDuration accepts.
func (f Faults) inRange() bool {
	for _, d := range []time.Duration{f.ShutdownDelay, f.CrashAfter, f.PoweroffAfter, f.RebootAfter, f.OpDelay, f.DetachDelay, f.Dying} {
		if d < 0 || d > maxDuration {
			return false
		}
	}
	return true
}

func enumAttr(a xml.Attr, yes, no string) (bool, error) {
	switch a.Value {
	case yes:
		return true, nil
	case no:
		return false, nil
	}
	return false, fmt.Errorf("%q is neither %q nor %q", a.Value, yes, no)
}

// maxDuration bounds fault durations so that time arithmetic cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

func parseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || secs > maxDuration.Seconds() || secs != secs {
			return 0, fmt.Errorf("%q out of range", s)
		}
		d = time.Duration(secs * float64(time.Second))
	} else {
		var perr error
		if d, perr = time.ParseDuration(s); perr != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
	}
	if d < 0 || d > maxDuration {
		return 0, fmt.Errorf("%q out of range", s)
	}
	return d, nil
}
