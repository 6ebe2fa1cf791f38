// Package qemuimg runs Debian's qemu-img (package qemu-utils) for what the
// driver's domain snapshots need: qcow2 overlays over a disk's image
// (external snapshots), internal qcow2 snapshots, reading an image's
// backing chain, and merging or re-pointing a chain (commit, rebase).
//
// Every operation is one qemu-img process run under the caller's context;
// a failure is an *Error carrying the command line, the exit status and
// qemu-img's own words, so that the driver can report it as libvirt does.
// What is refused before qemu-img runs is one of the package's sentinel
// errors, wrapped with the path it concerns.
//
// Every image path must be absolute. qemu-img reads a relative name with a
// colon before its first slash as a protocol ("nbd:...", "json:{...}") and
// one starting with "-" as an option, and it resolves a relative backing
// name against the overlay's directory, not ours: an absolute path is read
// as a file by every one of them.
//
// Written for, and tested with, qemu-img 7.2 (Debian 12). Its behaviour
// where it matters to snapshots is described at each operation.
package qemuimg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DefaultPath is the qemu-img run when Tool.Path is empty, found in PATH.
const DefaultPath = "qemu-img"

// waitDelay bounds the wait for a killed qemu-img's output (exec.Cmd's
// WaitDelay).
const waitDelay = 2 * time.Second

// Tool runs qemu-img. The zero value runs DefaultPath.
type Tool struct {
	// Path is the qemu-img executable; empty means DefaultPath.
	Path string
}

func (t *Tool) path() string {
	if t == nil || t.Path == "" {
		return DefaultPath
	}
	return t.Path
}

// run runs qemu-img with args and returns what it wrote to stdout. The
// C locale keeps qemu-img's messages (strerror's text among them) in the
// English that Error.Is recognizes.
func (t *Tool) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, t.path(), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Once qemu-img is killed, stop waiting for its pipes after a while:
	// a wrapper script's own child could keep them open long after.
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	e := &Error{
		Args:     append([]string{t.path()}, args...),
		ExitCode: -1,
		Stderr:   strings.TrimSpace(stderr.String()),
		Err:      err,
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		// Killed because the caller gave up: say so, not "signal: killed".
		e.Err = ctx.Err()
	case errors.As(err, &exit):
		e.ExitCode = exit.ExitCode()
	default:
		// Not started: hide the cause's fs error, which would read as
		// the image missing.
		e.Err = fmt.Errorf("%w: %v", ErrStart, err)
	}
	return nil, e
}

// checkAbs refuses a path qemu-img could read as anything but a file.
func checkAbs(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("qemuimg: %q: %w", path, ErrRelativePath)
	}
	return nil
}

// checkAbsAll is checkAbs of each path.
func checkAbsAll(paths ...string) error {
	for _, p := range paths {
		if err := checkAbs(p); err != nil {
			return err
		}
	}
	return nil
}
