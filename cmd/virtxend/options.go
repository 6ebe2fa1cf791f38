package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options is the parsed command line.
type options struct {
	help, version, daemon, verbose bool
	config                         string
	pidFile                        string
	pidFileSet                     bool
	timeout                        time.Duration
}

// errUsage marks errors after which the usage hint is printed.
var errUsage = errors.New("usage")

// optionSpec describes one option the way getopt_long does.
type optionSpec struct {
	short   byte
	long    string
	hasArg  bool
	resolve func(o *options, arg string) error
}

var optionSpecs = []optionSpec{
	{'h', "help", false, func(o *options, _ string) error { o.help = true; return nil }},
	{'V', "version", false, func(o *options, _ string) error { o.version = true; return nil }},
	{'d', "daemon", false, func(o *options, _ string) error { o.daemon = true; return nil }},
	{'v', "verbose", false, func(o *options, _ string) error { o.verbose = true; return nil }},
	{'f', "config", true, func(o *options, a string) error { o.config = absolute(a); return nil }},
	{'p', "pid-file", true, func(o *options, a string) error {
		o.pidFile, o.pidFileSet = absolute(a), true
		return nil
	}},
	{'t', "timeout", true, setTimeout},
}

// absolute keeps a path valid after -d changes directory to /.
func absolute(p string) string {
	if p == "" {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func setTimeout(o *options, arg string) error {
	secs, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || secs < 0 || secs > math.MaxInt32/1000 {
		return fmt.Errorf("invalid value for timeout: '%s' (expected seconds from 0 to %d): %w",
			arg, math.MaxInt32/1000, errUsage)
	}
	o.timeout = time.Duration(secs) * time.Second
	return nil
}

// parseOptions accepts the forms getopt_long does: -d, -dv, -t 5, -t5,
// --timeout 5, --timeout=5, unambiguous long prefixes, and -- to end options.
func parseOptions(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var err error
		switch {
		case a == "--":
			if i+1 < len(args) {
				return nil, unexpectedArgs(args[i+1:])
			}
			return o, nil
		case strings.HasPrefix(a, "--"):
			i, err = parseLong(o, args, i)
		case strings.HasPrefix(a, "-") && a != "-":
			i, err = parseShort(o, args, i)
		default:
			return nil, unexpectedArgs(args[i:])
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func unexpectedArgs(rest []string) error {
	return fmt.Errorf("unexpected, non-option, command line arguments: %s: %w", strings.Join(rest, " "), errUsage)
}

func parseLong(o *options, args []string, i int) (int, error) {
	name, arg, hasEq := strings.Cut(args[i][2:], "=")
	spec, err := findLong(name)
	if err != nil {
		return i, err
	}
	switch {
	case spec.hasArg && !hasEq:
		if i+1 >= len(args) {
			return i, fmt.Errorf("option '--%s' requires an argument: %w", spec.long, errUsage)
		}
		i++
		arg = args[i]
	case !spec.hasArg && hasEq:
		return i, fmt.Errorf("option '--%s' doesn't allow an argument: %w", spec.long, errUsage)
	}
	return i, spec.resolve(o, arg)
}

func findLong(name string) (*optionSpec, error) {
	var found *optionSpec
	for k := range optionSpecs {
		s := &optionSpecs[k]
		if s.long == name {
			return s, nil
		}
		if name != "" && strings.HasPrefix(s.long, name) {
			if found != nil {
				return nil, fmt.Errorf("option '--%s' is ambiguous: %w", name, errUsage)
			}
			found = s
		}
	}
	if found == nil {
		return nil, fmt.Errorf("unrecognized option '--%s': %w", name, errUsage)
	}
	return found, nil
}

func parseShort(o *options, args []string, i int) (int, error) {
	a := args[i]
	for j := 1; j < len(a); j++ {
		spec := findShort(a[j])
		if spec == nil {
			return i, fmt.Errorf("invalid option -- '%c': %w", a[j], errUsage)
		}
		if !spec.hasArg {
			if err := spec.resolve(o, ""); err != nil {
				return i, err
			}
			continue
		}
		arg := a[j+1:]
		if arg == "" {
			if i+1 >= len(args) {
				return i, fmt.Errorf("option requires an argument -- '%c': %w", a[j], errUsage)
			}
			i++
			arg = args[i]
		}
		return i, spec.resolve(o, arg)
	}
	return i, nil
}

func findShort(c byte) *optionSpec {
	for k := range optionSpecs {
		if optionSpecs[k].short == c {
			return &optionSpecs[k]
		}
	}
	return nil
}
