// Package hook runs libvirt's hook scripts (src/util/virhook.c), which
// admins put in /etc/libvirt/hooks to act when the daemon starts, stops or
// reloads and when a guest is prepared, started, stopped or released: for a
// driver ("daemon", "libxl"), the script named after it and then every
// executable in its ".d" directory, in name order, each run with the object's
// name, the operation, its sub-operation and an extra argument, a document
// on its standard input, and libvirt's environment (LC_ALL=C and a few
// variables passed on). Which drivers have hooks is looked up when the
// daemon starts and again when it reloads or shuts down, as libvirt does.
package hook

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Driver names a driver's hooks: the script's file name.
type Driver string

// The drivers this daemon runs hooks for.
const (
	Daemon Driver = "daemon"
	Libxl  Driver = "libxl"
)

// The sub-operations (virHookSubopType).
const (
	NoSubop = "-"
	Begin   = "begin"
	End     = "end"
)

// Hooks are the hook scripts of one directory (/etc/libvirt/hooks).
type Hooks struct {
	dir   string
	mu    sync.Mutex
	found map[Driver]bool // nil until looked up
}

// New is the hooks of dir; nothing is looked up yet.
func New(dir string) *Hooks {
	return &Hooks{dir: dir}
}

// Lookup finds which drivers have a hook (virHookInitialize): an
// executable script named after the driver, or an executable in its ".d"
// directory.
func (h *Hooks) Lookup() {
	found := map[Driver]bool{}
	for _, d := range []Driver{Daemon, Libxl} {
		found[d] = len(h.scripts(d)) > 0
	}
	h.mu.Lock()
	h.found = found
	h.mu.Unlock()
}

// Present reports whether driver d has a hook, as last looked up.
func (h *Hooks) Present(d Driver) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.found[d]
}

// scripts are d's hook scripts in the order they run: the script, then the
// executables of its directory sorted by name.
func (h *Hooks) scripts(d Driver) []string {
	var out []string
	main := filepath.Join(h.dir, string(d))
	if executable(main) {
		out = append(out, main)
	}
	entries, err := os.ReadDir(main + ".d")
	if err != nil {
		return out
	}
	var more []string
	for _, e := range entries {
		if p := filepath.Join(main+".d", e.Name()); executable(p) {
			more = append(more, p)
		}
	}
	slices.Sort(more)
	return append(out, more...)
}

// executable is virFileIsExecutable: a regular file with an execute bit.
func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// Call runs driver d's hooks for object id (virHookCall), unless d had
// none when last looked up; op, subop and extra are its other arguments
// ("-" where empty). Each script reads input; with filter set, a script's
// output, when not blank, is the result and, while none has failed, the
// next script's input (the migrate hook rewrites the incoming XML so).
// Every script runs even after one failed; the first failure is returned,
// an *Error.
func (h *Hooks) Call(d Driver, id, op, subop, extra, input string, filter bool) (string, error) {
	if !h.Present(d) {
		return "", nil
	}
	if subop == "" {
		subop = NoSubop
	}
	if extra == "" {
		extra = NoSubop
	}
	var out string
	var first error
	for _, path := range h.scripts(d) {
		in := input
		if filter && out != "" && first == nil {
			in = out
		}
		got, err := run(path, []string{id, op, subop, extra}, in)
		if err != nil && first == nil {
			first = err
		}
		if err == nil && filter && strings.TrimSpace(got) != "" {
			out = got
		}
	}
	return out, first
}

// run runs one script as virRunScript does, its standard output returned.
func run(path string, args []string, input string) (string, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = environment()
	// libvirt's daemons run from / (systemd starts them there), and their
	// hooks inherit it
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	e := &Error{Command: commandLine(cmd.Env, path, args), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		ws, _ := exit.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			e.Status = fmt.Sprintf("fatal signal %d", ws.Signal())
		} else {
			e.Status = fmt.Sprintf("exit status %d", exit.ExitCode())
		}
	default:
		// libvirt's child reports the failed exec and exits with
		// EXIT_CANNOT_INVOKE
		e.Status = "exit status 126"
		e.Stderr = fmt.Sprintf("cannot execute binary %s: %v", path, err)
	}
	return stdout.String(), e
}

// environment is virCommandAddEnvPassCommon's: LC_ALL=C and, when set in
// the daemon's, these variables, nothing else.
func environment() []string {
	env := []string{"LC_ALL=C"}
	for _, k := range []string{"LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES",
		"DYLD_FORCE_FLAT_NAMESPACE", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// commandLine is virCommandToString's form of a command: its environment,
// then its path and arguments, each quoted for a shell where it must be.
func commandLine(env []string, path string, args []string) string {
	var b strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString(k + "=" + shellQuote(v) + " ")
	}
	b.WriteString(shellQuote(path))
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

// shellQuote is virBufferEscapeShell: s as it is unless it holds a shell
// metacharacter, else in single quotes (a pair of them for the empty string).
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if !strings.ContainsAny(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Error is a hook script that failed: libvirt's words for it, which it
// reports as VIR_ERR_HOOK_SCRIPT_FAILED (the driver gives it that form).
type Error struct {
	Command string // the command line, environment first
	Status  string // "exit status N" or "fatal signal N"
	Stderr  string // what it wrote on its standard error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("Child process (%s) unexpected %s", e.Command, e.Status)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}
