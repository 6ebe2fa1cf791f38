package main

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsForms(t *testing.T) {
	abs, _ := filepath.Abs("rel.conf")
	cases := []struct {
		args []string
		want options
	}{
		{nil, options{}},
		{[]string{"-dv"}, options{daemon: true, verbose: true}},
		{[]string{"-t", "5"}, options{timeout: 5 * time.Second}},
		{[]string{"-t5"}, options{timeout: 5 * time.Second}},
		{[]string{"--timeout", "0"}, options{}},
		{[]string{"--timeout=7"}, options{timeout: 7 * time.Second}},
		{[]string{"--time=7"}, options{timeout: 7 * time.Second}}, // unambiguous prefix
		{[]string{"-vt3"}, options{verbose: true, timeout: 3 * time.Second}},
		{[]string{"-f", "/a.conf"}, options{config: "/a.conf"}},
		{[]string{"--config=rel.conf"}, options{config: abs}},
		{[]string{"-p", ""}, options{pidFileSet: true}},
		{[]string{"--pid-file="}, options{pidFileSet: true}},
		{[]string{"-p/x.pid"}, options{pidFile: "/x.pid", pidFileSet: true}},
		{[]string{"-V"}, options{version: true}},
		{[]string{"--he"}, options{help: true}},
		{[]string{"-d", "--"}, options{daemon: true}},
	}
	for _, c := range cases {
		got, err := parseOptions(c.args)
		if err != nil || *got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	cases := map[string][]string{
		"option '--ver' is ambiguous":                         {"--ver"}, // --verbose, --version
		"invalid value for timeout: '2147484'":                {"-t", "2147484"},
		"unexpected, non-option, command line arguments: a b": {"-d", "--", "a", "b"},
		"unexpected, non-option, command line arguments: - x": {"-", "x"},
		"unrecognized option '--'":                            {"--=1"},
		"option '--help' doesn't allow an argument":           {"--help=1"},
	}
	for want, args := range cases {
		_, err := parseOptions(args)
		if err == nil || !errors.Is(err, errUsage) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", args, err, want)
		}
	}
}

// FuzzParseOptions: any command line either parses to options within
// their bounds or gives a usage error; it never panics, and the result
// does not depend on anything but the arguments.
func FuzzParseOptions(f *testing.F) {
	for _, seed := range []string{"-d", "-dvt5", "--timeout=120", "-t\x00-1", "--config\x00/x", "-p\x00", "--\x00x", "--ver", "-x", "--pid-file="} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := parseOptions(args)
		if err != nil {
			if !errors.Is(err, errUsage) || (!strings.Contains(joined, "\n") && strings.Contains(err.Error(), "\n")) {
				t.Fatalf("%q: error %q is not a one-line usage error", args, err)
			}
			return
		}
		if o.timeout < 0 || o.timeout > time.Duration(math.MaxInt32/1000)*time.Second {
			t.Fatalf("%q: timeout %v out of range", args, o.timeout)
		}
		if o.pidFile != "" && !o.pidFileSet {
			t.Fatalf("%q: pid file %q without -p", args, o.pidFile)
		}
		again, err := parseOptions(args)
		if err != nil || *again != *o {
			t.Fatalf("%q: second parse %+v, %v differs from %+v", args, again, err, o)
		}
	})
}
