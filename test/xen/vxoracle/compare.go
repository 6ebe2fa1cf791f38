package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"virtxend/internal/libxltypes/jsondiff"
)

// checkOf names the check (run.sh's line) that a section's area belongs to.
var checkOf = map[string]string{
	"host":    "oracle-host",
	"define":  "oracle-define",
	"native":  "oracle-native",
	"errors":  "oracle-errors",
	"running": "oracle-running",
	"started": "oracle-running",
	"json":    "oracle-json",
	"pci":     "oracle-pci",
	"xchg":    "oracle-saveimage",
	"console": "oracle-console",
	"tuning":  "oracle-tuning",
	"stats":   "oracle-stats",
	"jobs":    "oracle-jobs",
}

// checkOrder is the order of the CHECK lines (oracle.sh's CHECKS, less oracle-start).
var checkOrder = []string{"oracle-host", "oracle-define", "oracle-native", "oracle-errors", "oracle-running", "oracle-json",
	"oracle-pci", "oracle-saveimage", "oracle-console", "oracle-tuning", "oracle-stats", "oracle-jobs"}

// Section is one compared section: its differences, each with the entry that lists it.
type Section struct {
	Name  string
	Diff  []DiffLine
	Known []*Entry // per Diff line; nil where unlisted
}

// Unlisted is how many of its difference lines no entry lists.
func (s *Section) Unlisted() int {
	n := 0
	for _, k := range s.Known {
		if k == nil {
			n++
		}
	}
	return n
}

// Result is a whole comparison.
type Result struct {
	Sections []*Section
	Known    *Known
	Timings  []Timing // of the sections both sides ran, in their order
}

// Compare compares the transcripts and JSON of the two sides.
func Compare(libvirtDir, oursDir string, n *Normalizer, k *Known) (*Result, error) {
	a, err := readSide(libvirtDir)
	if err != nil {
		return nil, err
	}
	b, err := readSide(oursDir)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for s := range a {
		names[s] = true
	}
	for s := range b {
		names[s] = true
	}
	sorted := make([]string, 0, len(names))
	for s := range names {
		sorted = append(sorted, s)
	}
	sort.Strings(sorted)
	res := &Result{Known: k}
	for _, name := range sorted {
		la, oka := a[name]
		lb, okb := b[name]
		la, ta, fa := takeTimings(la)
		lb, tb, fb := takeTimings(lb)
		if oka && okb && (fa || fb) {
			res.Timings = append(res.Timings, Timing{Section: name, Libvirt: ta, Ours: tb})
		}
		var d []DiffLine
		switch {
		case !oka:
			d = []DiffLine{{'+', "(this section only in our session)"}}
		case !okb:
			d = []DiffLine{{'-', "(this section only in libvirt's session)"}}
		default:
			d = Diff(n.Lines(name, la), n.Lines(name, lb))
		}
		res.add(name, d)
	}
	jd, err := compareJSON(filepath.Join(libvirtDir, "json"), filepath.Join(oursDir, "json"), n)
	if err != nil {
		return nil, err
	}
	for _, s := range jd {
		res.add(s.Name, s.Diff)
	}
	return res, nil
}

func (r *Result) add(name string, d []DiffLine) {
	s := &Section{Name: name, Diff: d, Known: make([]*Entry, len(d))}
	for i, l := range d {
		s.Known[i] = r.Known.Explain(name, l.Sign, l.Text)
	}
	r.Sections = append(r.Sections, s)
}

// readSide reads every AREA.txt of a side into its sections.
func readSide(dir string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		area := strings.TrimSuffix(filepath.Base(f), ".txt")
		if _, ok := checkOf[area]; !ok {
			continue
		}
		for name, lines := range splitSections(area, string(b)) {
			out[name] = append(out[name], lines...)
		}
	}
	return out, nil
}

// splitSections splits a transcript at its "@@@ area/section" lines; what comes before the
// first goes to "AREA/(start)", so that a batch virsh could not even run is a difference.
func splitSections(area, text string) map[string][]string {
	out := map[string][]string{}
	cur := area + "/(start)"
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if name, ok := strings.CutPrefix(l, "@@@ "); ok {
			cur = strings.TrimSpace(name)
			out[cur] = out[cur][:len(out[cur]):len(out[cur])]
			continue
		}
		out[cur] = append(out[cur], l)
	}
	if ls := out[area+"/(start)"]; len(strings.TrimSpace(strings.Join(ls, ""))) == 0 {
		delete(out, area+"/(start)")
	}
	return out
}

// compareJSON compares each guest's libxl JSON, normalized as the conformance tests do
// (jsondiff) and then as the transcripts are.
func compareJSON(a, b string, n *Normalizer) ([]*Section, error) {
	names := map[string]bool{}
	for _, d := range []string{a, b} {
		fs, _ := filepath.Glob(filepath.Join(d, "*.json"))
		for _, f := range fs {
			names[strings.TrimSuffix(filepath.Base(f), ".json")] = true
		}
	}
	var out []*Section
	for name := range names {
		ja, erra := readJSON(filepath.Join(a, name+".json"), n)
		jb, errb := readJSON(filepath.Join(b, name+".json"), n)
		var d []DiffLine
		switch {
		case erra != nil && errb != nil:
			d = []DiffLine{{'-', "(unreadable: " + erra.Error() + ")"}, {'+', "(unreadable: " + errb.Error() + ")"}}
		case erra != nil:
			d = []DiffLine{{'-', "(no JSON: " + erra.Error() + ")"}}
		case errb != nil:
			d = []DiffLine{{'+', "(no JSON: " + errb.Error() + ")"}}
		default:
			jsonDiff(ja, jb, &d)
		}
		out = append(out, &Section{Name: "json/" + name, Diff: d})
	}
	slices.SortFunc(out, func(x, y *Section) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

func readJSON(file string, n *Normalizer) (any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v, err := jsondiff.Normalize(b)
	if err != nil {
		return nil, err
	}
	return n.JSON(v), nil
}

// jsonDiff is jsondiff's differences, one line a side: "PATH = VALUE".
func jsonDiff(a, b any, out *[]DiffLine) {
	for _, d := range jsondiff.Differences(a, b) {
		if d.Want != nil {
			*out = append(*out, DiffLine{'-', d.Path + " = " + string(d.WantJSON)})
		}
		if d.Got != nil {
			*out = append(*out, DiffLine{'+', d.Path + " = " + string(d.GotJSON)})
		}
	}
}

// area is the first element of a section's name.
func area(section string) string {
	a, _, _ := strings.Cut(section, "/")
	return a
}

// Checks is the CHECK lines, each area's unlisted differences printed before its line.
func (r *Result) Checks() string {
	var b strings.Builder
	for _, c := range checkOrder {
		var total, alike, listed, listedLines int
		var bad []*Section
		for _, s := range r.Sections {
			if checkOf[area(s.Name)] != c {
				continue
			}
			total++
			switch {
			case len(s.Diff) == 0:
				alike++
			case s.Unlisted() == 0:
				listed++
				listedLines += len(s.Diff)
			default:
				bad = append(bad, s)
			}
		}
		unused := r.unusedFor(c)
		if total == 0 {
			fmt.Fprintf(&b, "CHECK FAIL %s: nothing compared (no section from either daemon)\n", c)
			continue
		}
		summary := fmt.Sprintf("%d sections: %d alike, %d with %d listed differences", total, alike, listed, listedLines)
		if unused != "" {
			summary += "; " + unused
		}
		if len(bad) == 0 {
			fmt.Fprintf(&b, "CHECK PASS %s: %s\n", c, summary)
			continue
		}
		shown := 0
		var names []string
		for _, s := range bad {
			names = append(names, s.Name)
			for i, l := range s.Diff {
				if s.Known[i] != nil {
					continue
				}
				if shown < 120 {
					fmt.Fprintf(&b, "  | %s: %c %s\n", s.Name, l.Sign, l.Text)
				}
				shown++
			}
		}
		if shown > 120 {
			fmt.Fprintf(&b, "  | ... %d more lines: see the report\n", shown-120)
		}
		if len(names) > 8 {
			names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
		}
		fmt.Fprintf(&b, "CHECK FAIL %s: %d of %d sections differ beyond %s: %s; %s\n", c, len(bad), total,
			filepath.Base(r.knownFile()), strings.Join(names, " "), summary)
	}
	return b.String()
}

func (r *Result) knownFile() string {
	if r.Known.File == "" {
		return "the known differences"
	}
	return r.Known.File
}

// unusedFor names the entries, of the areas of check c, that no difference needed.
func (r *Result) unusedFor(c string) string {
	var at []string
	for _, e := range r.Known.Unused() {
		for _, g := range e.Globs {
			if checkOf[area(g)] == c {
				at = append(at, fmt.Sprint(e.At))
				break
			}
		}
	}
	if len(at) == 0 {
		return ""
	}
	return fmt.Sprintf("%d listed differences not seen (%s lines %s)", len(at), filepath.Base(r.knownFile()), strings.Join(at, ","))
}

// Report is every difference, listed or not, section by section.
func (r *Result) Report() string {
	var b strings.Builder
	for _, s := range r.Sections {
		if len(s.Diff) == 0 {
			continue
		}
		state := "listed"
		if s.Unlisted() > 0 {
			state = fmt.Sprintf("%d lines NOT LISTED", s.Unlisted())
		}
		fmt.Fprintf(&b, "== %s (%s)\n", s.Name, state)
		for i, l := range s.Diff {
			mark := "NOT LISTED"
			if s.Known[i] != nil {
				mark = fmt.Sprintf("known:%d", s.Known[i].At)
			}
			fmt.Fprintf(&b, "%c %s\t[%s]\n", l.Sign, l.Text, mark)
		}
	}
	b.WriteString(r.TimingReport(30))
	for _, e := range r.Known.Unused() {
		fmt.Fprintf(&b, "== unused entry at line %d (%s): %s\n", e.At, strings.Join(e.Globs, " "), e.Reason)
	}
	return b.String()
}
