package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// virsh -t prints "(Time: N ms)" after each command: how long the daemon
// took to answer, virsh's own start-up not included. The lines are
// dropped before the comparison and summed per section, to show where
// one daemon is slower than the other.
var reTiming = regexp.MustCompile(`^\(Time: ([0-9.]+) ms\)$`)

// Timing is a section's time on each side, in ms.
type Timing struct {
	Section       string
	Libvirt, Ours float64
}

// takeTimings removes the timing lines from lines and sums them.
func takeTimings(lines []string) ([]string, float64, bool) {
	out := lines[:0:0]
	var sum float64
	found := false
	for _, l := range lines {
		m := reTiming.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			out = append(out, l)
			continue
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
		found = true
	}
	return out, sum, found
}

// TimingReport is the time of each area on each side, and the sections
// where ours took longest beyond libvirt's.
func (r *Result) TimingReport(top int) string {
	if len(r.Timings) == 0 {
		return ""
	}
	type tot struct{ a, b float64 }
	areas := map[string]*tot{}
	var names []string
	for _, t := range r.Timings {
		ar := area(t.Section)
		if areas[ar] == nil {
			areas[ar] = &tot{}
			names = append(names, ar)
		}
		areas[ar].a += t.Libvirt
		areas[ar].b += t.Ours
	}
	var b strings.Builder
	fmt.Fprintf(&b, "timing (virsh -t, ms): %-8s %10s %10s %6s\n", "area", "libvirt", "virtxend", "ratio")
	for _, n := range names {
		t := areas[n]
		fmt.Fprintf(&b, "timing (virsh -t, ms): %-8s %10.0f %10.0f %6s\n", n, t.a, t.b, ratio(t.b, t.a))
	}
	slow := append([]Timing(nil), r.Timings...)
	sort.SliceStable(slow, func(i, j int) bool { return slow[i].Ours-slow[i].Libvirt > slow[j].Ours-slow[j].Libvirt })
	for i := 0; i < top && i < len(slow) && slow[i].Ours > slow[i].Libvirt; i++ {
		t := slow[i]
		fmt.Fprintf(&b, "timing: slower by %.0f ms: %s (libvirt %.0f, virtxend %.0f)\n", t.Ours-t.Libvirt, t.Section, t.Libvirt, t.Ours)
	}
	return b.String()
}

func ratio(b, a float64) string {
	if a <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", b/a)
}
