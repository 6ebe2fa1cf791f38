package libxl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"virtxend/internal/backend"
)

// consoledPidFiles are where xenconsoled's pid is found first: Debian's
// init script and test/xen give it --pid-file=/run/xen/xenconsoled.pid;
// xencommons of older Xen used /var/run/xenconsoled.pid.
var consoledPidFiles = []string{"/run/xen/xenconsoled.pid", "/var/run/xenconsoled.pid"}

// consoledID names the xenconsoled running now by its pid and start time
// (in /proc/PID/stat), so that a restart changes the name even if the new
// one gets the old pid. It looks at the pid files first, then at every
// process in proc: a few hundred in a dom0, and the driver asks only when
// a client reads a running guest's XML or opens its console.
func consoledID(proc string, pidFiles []string) (string, error) {
	for _, f := range pidFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if id, ok := xenconsoledAt(proc, strings.TrimSpace(string(b))); ok {
			return id, nil
		}
	}
	ents, err := os.ReadDir(proc)
	if err != nil {
		return "", fmt.Errorf("%w: %w", backend.ErrFailed, err)
	}
	for _, e := range ents {
		if id, ok := xenconsoledAt(proc, e.Name()); ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: xenconsoled is not running", backend.ErrFailed)
}

// xenconsoledAt is the name of process pid if it is xenconsoled.
func xenconsoledAt(proc, pid string) (string, bool) {
	if _, err := strconv.Atoi(pid); err != nil {
		return "", false
	}
	stat, err := os.ReadFile(filepath.Join(proc, pid, "stat"))
	if err != nil {
		return "", false
	}
	// "PID (COMM) STATE PPID ...": comm may hold blanks and parentheses,
	// so the fields after it start at the last ')'.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open || string(stat[open+1:end]) != "xenconsoled" {
		return "", false
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 20 {
		return "", false
	}
	return pid + "@" + f[19], true // starttime, field 22
}
