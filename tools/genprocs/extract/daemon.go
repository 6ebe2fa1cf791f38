package extract

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"virtxend/tools/genprocs/procfile"
)

// daemon is libvirt's daemon side of the remote program: the hand-written
// dispatchers of src/remote/remote_daemon_dispatch.c and the start-up code
// of src/remote/remote_daemon.c.
type daemon struct {
	dispatch *cfile
	rev      map[string][]string
	noAuth   map[string]bool
}

var needAuthOff = regexp.MustCompile(`remoteProcs\[REMOTE_PROC_(\w+)\]\.needAuth = false;`)

func readDaemon(dispatchPath, daemonPath string) (*daemon, error) {
	f, err := readC(dispatchPath)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(daemonPath)
	if err != nil {
		return nil, err
	}
	d := &daemon{dispatch: f, rev: f.reverseRefs(), noAuth: map[string]bool{}}
	for _, m := range needAuthOff.FindAllStringSubmatch(stripComments(string(b)), -1) {
		d.noAuth[m[1]] = true
	}
	if len(d.noAuth) == 0 {
		return nil, fmt.Errorf("%s: no procedure callable before authentication", daemonPath)
	}
	return d, nil
}

// dispatcher is the name of p's server-side function.
func dispatcher(p xproc) string { return "remoteDispatch" + procfile.ProcName(p.name) }

// apiOf finds the entry point p's dispatcher calls, whose errors the
// client sees: vir<ProcName> for a generated dispatcher; for a
// hand-written one the entry point of that name if it calls it, else the
// one entry point it calls that reports "not supported" itself. "" when
// the daemon answers without the API layer.
func (d *daemon) apiOf(p xproc, a api) (string, error) {
	want := "vir" + procfile.ProcName(p.name)
	if p.serverGenerated() {
		if a[want] == nil {
			return "", fmt.Errorf("REMOTE_PROC_%s: generated dispatcher calls %s, which src/libvirt*.c lacks", p.name, want)
		}
		return want, nil
	}
	body, ok := d.dispatch.defs[dispatcher(p)]
	if !ok {
		return "", errorf(d.dispatch, "no %s for REMOTE_PROC_%s", dispatcher(p), p.name)
	}
	var reporting []string
	for _, fn := range calls(body) {
		if fn == want && a[fn] != nil {
			return fn, nil
		}
		if e := a[fn]; e != nil && e.reportsUnsupported() {
			reporting = append(reporting, fn)
		}
	}
	switch len(reporting) {
	case 0:
		return "", nil
	case 1:
		return reporting[0], nil
	}
	return "", errorf(d.dispatch, "%s calls entry points %v: which one is REMOTE_PROC_%s's?", dispatcher(p), reporting, p.name)
}

// registrars lists the procedures whose dispatchers make the daemon send
// event message m: those that register the callbacks (remoteRelay...)
// sending it, directly or through the callback arrays.
func (d *daemon) registrars(m xproc, byDispatcher map[string]xproc) []xproc {
	senders := d.dispatch.users("REMOTE_PROC_" + m.name)
	isDispatcher := func(n string) bool { return strings.HasPrefix(n, "remoteDispatch") }
	var out []xproc
	for n := range reaching(d.rev, senders, isDispatcher) {
		if p, ok := byDispatcher[n]; ok && isDispatcher(n) {
			out = append(out, p)
		}
	}
	return out
}
