package logging

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Destination is where an output sends records (libvirt's virLogDestination).
type Destination int

// libvirt's destinations, in its order.
const (
	ToStderr Destination = iota
	ToSyslog
	ToFile
	ToJournald
)

var destinationNames = [...]string{"stderr", "syslog", "file", "journald"}

func (d Destination) String() string {
	if d >= 0 && int(d) < len(destinationNames) {
		return destinationNames[d]
	}
	return "unknown"
}

func destinationFromString(s string) (Destination, bool) {
	for i, n := range destinationNames {
		if n == s {
			return Destination(i), true
		}
	}
	return 0, false
}

// hasName reports whether the destination takes a third field.
func (d Destination) hasName() bool { return d == ToSyslog || d == ToFile }

// OutputSpec is one parsed output: the minimum priority it writes, where,
// and for file the canonical path, for syslog the message tag.
type OutputSpec struct {
	Priority    Priority
	Destination Destination
	Name        string
}

// String is the output as libvirt's virLogGetOutputs prints it.
func (o OutputSpec) String() string {
	s := strconv.Itoa(int(o.Priority)) + ":" + o.Destination.String()
	if o.Destination.hasName() {
		s += ":" + o.Name
	}
	return s
}

// ParseOutputs parses libvirt's log_outputs syntax: space-separated
// "LEVEL:stderr", "LEVEL:journald", "LEVEL:syslog:NAME", "LEVEL:file:PATH".
// Empty items are skipped. An output repeating an earlier one's
// destination and name replaces it and moves to the end, as in libvirt.
// File paths are made absolute and cleaned against the working directory.
func ParseOutputs(s string) ([]OutputSpec, error) {
	var list []OutputSpec
	for _, item := range strings.Split(s, " ") {
		if item == "" {
			continue
		}
		o, err := parseOutput(item)
		if err != nil {
			return nil, err
		}
		list = appendReplacing(list, o)
	}
	return list, nil
}

func appendReplacing(list []OutputSpec, o OutputSpec) []OutputSpec {
	for i, old := range list {
		if old.Destination == o.Destination && old.Name == o.Name {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	return append(list, o)
}

func parseOutput(item string) (OutputSpec, error) {
	tokens := strings.Split(item, ":")
	if len(tokens) < 2 {
		return OutputSpec{}, invalidArg("Malformed format for log output '%s'", item)
	}
	prio, ok := parsePriorityNumber(tokens[0])
	if !ok || !prio.valid() {
		return OutputSpec{}, invalidArg("Invalid log priority '%s' for log output '%s'", tokens[0], item)
	}
	dest, ok := destinationFromString(tokens[1])
	if !ok {
		return OutputSpec{}, invalidArg("Invalid log destination '%s' for log output '%s'", tokens[1], item)
	}
	want := 2
	if dest.hasName() {
		want = 3
	}
	if len(tokens) != want {
		return OutputSpec{}, invalidArg("Log output '%s' does not meet the format requirements for destination type '%s'", item, tokens[1])
	}
	o := OutputSpec{Priority: prio, Destination: dest}
	switch dest {
	case ToSyslog:
		o.Name = tokens[2]
	case ToFile:
		o.Name = canonicalPath(tokens[2])
	}
	return o, nil
}

// FormatOutputs prints outputs as libvirt's virLogGetOutputs: separated
// by single spaces, no trailing space.
func FormatOutputs(list []OutputSpec) string {
	parts := make([]string, len(list))
	for i, o := range list {
		parts[i] = o.String()
	}
	return strings.Join(parts, " ")
}

// canonicalPath is GLib's g_canonicalize_filename relative to the working
// directory: absolute, without "." or ".." or repeated slashes, symlinks
// untouched; exactly two leading slashes are kept, as POSIX lets them mean
// something else than one.
func canonicalPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		cwd, err := os.Getwd()
		if err != nil {
			cwd = "/"
		}
		p = cwd + "/" + p
	}
	twoSlashes := strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///")
	p = filepath.Clean(p)
	if twoSlashes {
		p = "/" + p
	}
	return p
}
