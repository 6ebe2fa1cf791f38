package daemontest

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// When a test package outlives go test's -timeout, the testing package
// panics with the test's own goroutines only: where the daemon under test
// was stuck is lost, and CI shows just the tail of the dump. The watchdog
// goes off a minute before that timeout, makes every daemon still running
// print its goroutines (SIGABRT: the daemon quits on SIGQUIT, as libvirtd
// does) and prints, last, one line per daemon naming its test, so the tail
// of the output says what hung.

// liveDaemons are the daemons started and not yet ended, with their tests.
var liveDaemons sync.Map // *Daemon -> test name

// watchdogMargin is how long before go test's timeout the watchdog fires.
const watchdogMargin = time.Minute

func track(d *Daemon) {
	liveDaemons.Store(d, d.t.Name())
	go func() {
		<-d.done
		liveDaemons.Delete(d)
	}()
}

// startWatchdog arms the watchdog from the -test.timeout flag; it does
// nothing without one, or with one too short to leave a margin.
func startWatchdog() *time.Timer {
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.timeout")
	if f == nil {
		return nil
	}
	timeout, err := time.ParseDuration(f.Value.String())
	if err != nil || timeout <= 2*watchdogMargin {
		return nil
	}
	return time.AfterFunc(timeout-watchdogMargin, dumpLiveDaemons)
}

func dumpLiveDaemons() {
	var lines []string
	liveDaemons.Range(func(k, v any) bool {
		d := k.(*Daemon)
		d.Cmd.Process.Signal(syscall.SIGABRT)
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
		}
		fmt.Fprintf(os.Stderr, "=== watchdog: the daemon of %s (root %s) printed:\n%s\n", v, d.Root, d.Output())
		lines = append(lines, fmt.Sprintf("watchdog: %s still had its daemon (root %s) %v before go test's timeout", v, d.Root, watchdogMargin))
		return true
	})
	sort.Strings(lines)
	if len(lines) == 0 {
		lines = []string{"watchdog: no daemon was running " + watchdogMargin.String() + " before go test's timeout"}
	}
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}
