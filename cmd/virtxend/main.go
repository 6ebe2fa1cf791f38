// Command virtxend is the libvirt Xen management daemon: it parses the
// command line, checks it runs as root, goes to the background for -d, and
// hands over to internal/daemon.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"virtxend/internal/backend/sim"
	"virtxend/internal/buildinfo"
	"virtxend/internal/daemon"
	"virtxend/internal/paths"
)

func main() {
	// The simulated host starts this binary under another name to serve
	// its guests' consoles, as xenconsoled serves real Xen's.
	if filepath.Base(os.Args[0]) == sim.ConsoledName {
		os.Exit(sim.ConsoledMain(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args)
	if err != nil {
		return fail(stderr, err)
	}
	p := paths.FromEnv()
	switch {
	case o.help:
		fmt.Fprint(stdout, usage(p))
		return 0
	case o.version:
		fmt.Fprintf(stdout, "%s (%s) %s\n", buildinfo.Program, buildinfo.Package, buildinfo.Version)
		return 0
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "%s: error: must be run as root (uid 0), not as uid %d\n", buildinfo.Program, os.Geteuid())
		return 1
	}
	if o.daemon && !isBackgroundChild() {
		return runForeground(args, stderr)
	}
	opts := daemon.Options{
		Paths: p, ConfigFile: o.config, PidFile: o.pidFile,
		NoPidFile: o.pidFileSet && o.pidFile == "",
		Timeout:   o.timeout, Verbose: o.verbose, Daemonized: o.daemon,
	}
	if isBackgroundChild() {
		return runBackground(opts)
	}
	if err := daemon.Run(opts); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// fail prints a one-line error, plus the usage hint for command-line mistakes.
func fail(stderr io.Writer, err error) int {
	msg := err.Error()
	if errors.Is(err, errUsage) {
		msg = msg[:len(msg)-len(": "+errUsage.Error())]
	}
	fmt.Fprintf(stderr, "%s: error: %s\n", buildinfo.Program, msg)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "Try '%s --help' for more information.\n", buildinfo.Program)
	}
	return 1
}

func usage(p paths.Paths) string {
	return fmt.Sprintf(`Usage:
  %[1]s [options]

Options:
  -h | --help            Display program help
  -v | --verbose         Verbose messages
  -d | --daemon          Run as a daemon & write PID file
  -t | --timeout <secs>  Exit after timeout period, when no client is connected
                         and no guest is running
  -f | --config <file>   Configuration file
  -V | --version         Display version information
  -p | --pid-file <file> Change name of PID file ("" for none)

libvirt Xen management daemon:

  Default paths:

    Configuration file (unless overridden by -f):
      %[2]s
    libxl driver configuration file:
      %[3]s

    Sockets:
      %[4]s/%[5]s
      %[4]s/%[6]s
      %[4]s/%[7]s

    PID file (unless overridden by -p):
      %[8]s

  Set %[9]s=DIR to place /etc, /var and /run below DIR.
`, buildinfo.Program, p.DaemonConfig(), p.LibxlConfig(), p.SocketDir(),
		paths.RWSocketName, paths.ROSocketName, paths.AdminSocketName, p.PidFile(), paths.RootEnv)
}
