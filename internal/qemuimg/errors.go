package qemuimg

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Errors refused before qemu-img runs, each wrapped with the path or name
// it concerns; match them with errors.Is.
var (
	// ErrRelativePath: an image or backing path is not absolute (see the
	// package comment for why that is refused).
	ErrRelativePath = errors.New("image path is not absolute")
	// ErrExists: a new overlay's path names an existing file that is not
	// a block device (libvirt: "external snapshot file for disk %s
	// already exists and is not a block device: %s"). libvirt refuses it
	// unless VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT asks to use it as is.
	ErrExists = errors.New("file already exists and is not a block device")
	// ErrNoFormat: a backing file was given without its format, which
	// qemu-img 7.2 refuses and would otherwise have to guess.
	ErrNoFormat = errors.New("backing format not given")
	// ErrNotQcow2: the image does not start with qcow2's magic.
	ErrNotQcow2 = errors.New("image is not in qcow2 format")
	// ErrSnapshotName: an internal snapshot's name is empty.
	ErrSnapshotName = errors.New("internal snapshot name is empty")
	// ErrSnapshotExists: the image has an internal snapshot of that name.
	ErrSnapshotExists = errors.New("internal snapshot already exists")
	// ErrNoSnapshot: the image has no internal snapshot of that name.
	ErrNoSnapshot = errors.New("internal snapshot not found")
	// ErrBadInfo: qemu-img info's output could not be read.
	ErrBadInfo = errors.New("cannot parse qemu-img info output")
)

// Errors an *Error matches with errors.Is, recognized from qemu-img's
// messages (which run() keeps in the C locale).
var (
	// ErrLocked: another process, a running guest's QEMU most likely,
	// holds the image's lock ("Failed to get "write" lock").
	ErrLocked = errors.New("image is locked by another process")
	// ErrStart: qemu-img could not be run at all (not installed: Debian's
	// package is qemu-utils).
	ErrStart = errors.New("cannot run qemu-img")
)

// Error is a qemu-img run that failed. It matches fs.ErrNotExist when
// qemu-img could not open an image for want of the file, and ErrLocked
// when another process holds the image's lock.
type Error struct {
	// Args is the command line, qemu-img first.
	Args []string
	// ExitCode is qemu-img's exit status, -1 if it did not exit by itself
	// (never started, or killed when the context ended).
	ExitCode int
	// Stderr is what qemu-img wrote to stderr, trimmed: its own words,
	// each line starting "qemu-img: ".
	Stderr string
	// Err is the cause: an *exec.ExitError, ErrStart, or the context's
	// error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(quoteArgs(e.Args))
	b.WriteString(": ")
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, "exit status %d", e.ExitCode)
	} else {
		b.WriteString(e.Err.Error())
	}
	if e.Stderr != "" {
		b.WriteString(": ")
		b.WriteString(e.Stderr)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is recognizes qemu-img's messages. Only a qemu-img that ran is read: a
// missing qemu-img is ErrStart, never fs.ErrNotExist.
func (e *Error) Is(target error) bool {
	if e.ExitCode < 0 {
		return false
	}
	switch target {
	case fs.ErrNotExist:
		return strings.Contains(e.Stderr, "No such file or directory")
	case ErrLocked:
		return strings.Contains(e.Stderr, "Failed to get") && strings.Contains(e.Stderr, "lock")
	}
	return false
}

// quoteArgs joins a command line, quoting what a shell would split.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			q[i] = strconv.Quote(a)
		}
	}
	return strings.Join(q, " ")
}
