package main

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
)

// The known-differences file lists, with the reason for each, the differences between
// libvirt's answers and ours that are not (yet) fixed. Its goal is to be empty.
//
// Entries are separated by blank lines; '#' starts a comment line. An entry is:
//
//	[GLOB] ...               one or more section globs (path.Match, on "area/section")
//	- REGEX                  a line only libvirt's answer has
//	+ REGEX                  a line only ours has
//	* REGEX                  a line on either side
//	reason: TEXT             why it differs and why it stays (required; may go on over
//	  MORE TEXT              lines that start with blanks)
//
// A REGEX (RE2) must match the whole line of the difference, leading and trailing blanks
// trimmed. For the libxl JSON (sections "json/NAME") a difference is "PATH = VALUE"
// (e.g. "- /b_info/max_vcpus = 2"), one line a side. A section's differences are listed
// when every one of its lines is matched by an entry whose globs match the section.

// Entry is one listed difference.
type Entry struct {
	Globs  []string
	Lines  []Pattern
	Reason string
	At     int // line in the file
	used   bool
}

// Pattern is one line an entry allows.
type Pattern struct {
	Sign byte // '-', '+' or '*'
	Re   *regexp.Regexp
	Src  string
}

// Known is the parsed known-differences file.
type Known struct {
	File    string
	Entries []*Entry
}

// LoadKnown reads and checks the file.
func LoadKnown(file string) (*Known, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	k, err := ParseKnown(bufio.NewScanner(f))
	if err != nil {
		return nil, fmt.Errorf("%s:%w", file, err)
	}
	k.File = file
	return k, nil
}

// ParseKnown parses the known-differences format from sc.
func ParseKnown(sc *bufio.Scanner) (*Known, error) {
	k := &Known{}
	var cur *Entry
	inReason := false
	flush := func(n int) error {
		if cur == nil {
			return nil
		}
		switch {
		case len(cur.Globs) == 0:
			return fmt.Errorf("%d: entry without a [section glob]", cur.At)
		case len(cur.Lines) == 0:
			return fmt.Errorf("%d: entry without a difference line (- + *)", cur.At)
		case strings.TrimSpace(cur.Reason) == "":
			return fmt.Errorf("%d: entry without a reason", cur.At)
		}
		k.Entries = append(k.Entries, cur)
		cur, inReason = nil, false
		return nil
	}
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			if err := flush(n); err != nil {
				return nil, err
			}
			continue
		}
		if cur == nil {
			cur = &Entry{At: n}
		}
		if inReason && (raw[0] == ' ' || raw[0] == '\t') {
			cur.Reason += " " + line
			continue
		}
		inReason = false
		switch {
		case strings.HasPrefix(line, "["):
			if len(cur.Lines) > 0 || cur.Reason != "" {
				return nil, fmt.Errorf("%d: a [section glob] after the entry's lines (separate entries by a blank line)", n)
			}
			g := strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
			if _, err := path.Match(g, ""); err != nil || !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%d: bad section glob %q", n, line)
			}
			cur.Globs = append(cur.Globs, g)
		case line[0] == '-' || line[0] == '+' || line[0] == '*':
			src := strings.TrimSpace(line[1:])
			re, err := regexp.Compile(`^(?:` + src + `)$`)
			if err != nil {
				return nil, fmt.Errorf("%d: %v", n, err)
			}
			cur.Lines = append(cur.Lines, Pattern{Sign: line[0], Re: re, Src: src})
		case strings.HasPrefix(line, "reason:"):
			cur.Reason = strings.TrimSpace(strings.TrimPrefix(line, "reason:"))
			inReason = true
		default:
			return nil, fmt.Errorf("%d: not a [glob], a - + * line or a reason: %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(n); err != nil {
		return nil, err
	}
	return k, nil
}

// Explain returns the entry that lists the difference line d (sign and text) of section,
// marking it used; nil when none does.
func (k *Known) Explain(section string, sign byte, text string) *Entry {
	text = strings.TrimSpace(text)
	for _, e := range k.Entries {
		if !e.matchesSection(section) {
			continue
		}
		for _, p := range e.Lines {
			if (p.Sign == '*' || p.Sign == sign) && p.Re.MatchString(text) {
				e.used = true
				return e
			}
		}
	}
	return nil
}

func (e *Entry) matchesSection(section string) bool {
	for _, g := range e.Globs {
		if ok, _ := path.Match(g, section); ok {
			return true
		}
		// "*" in a glob also spans "/" when the glob ends in "/*" ([native/*])
		if strings.HasSuffix(g, "/*") && strings.HasPrefix(section, strings.TrimSuffix(g, "*")) {
			return true
		}
	}
	return false
}

// Unused is the entries no difference needed.
func (k *Known) Unused() []*Entry {
	var out []*Entry
	for _, e := range k.Entries {
		if !e.used {
			out = append(out, e)
		}
	}
	return out
}
