package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"virtxend/internal/buildinfo"
	"virtxend/internal/daemon"
)

// Go cannot fork safely, so -d re-executes the binary as a session leader
// and waits on a pipe for one status byte: 0 once the child holds its pid
// file and listens, else 1 followed by the reason.
const backgroundEnv = "VIRTXEND_BACKGROUND_CHILD"

func isBackgroundChild() bool { return os.Getenv(backgroundEnv) == "1" }

func runForeground(args []string, stderr io.Writer) int {
	r, w, err := os.Pipe()
	if err != nil {
		return fail(stderr, err)
	}
	child, err := startBackgroundChild(args, w)
	w.Close()
	if err != nil {
		return fail(stderr, fmt.Errorf("cannot start the background daemon: %w", err))
	}
	child.Process.Release()
	status, err := io.ReadAll(r)
	switch {
	case err != nil || len(status) == 0:
		fmt.Fprintf(stderr, "%s: error: unable to determine if daemon is running\n", buildinfo.Program)
		return 1
	case status[0] != 0:
		fmt.Fprintf(stderr, "%s: error: %s\n", buildinfo.Program, status[1:])
		return 1
	}
	return 0
}

func startBackgroundChild(args []string, status *os.File) (*exec.Cmd, error) {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Env = append(os.Environ(), backgroundEnv+"=1")
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{status} // fd 3 in the child
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, cmd.Start()
}

// runBackground is the daemon side of -d: it reports start-up success or
// failure on fd 3 and closes it so the foreground process can exit.
func runBackground(opts daemon.Options) int {
	os.Unsetenv(backgroundEnv)
	status := os.NewFile(3, "status")
	reported := false
	opts.Ready = func() {
		status.Write([]byte{0})
		status.Close()
		reported = true
	}
	err := daemon.Run(opts)
	if err != nil && !reported {
		status.Write(append([]byte{1}, err.Error()...))
		status.Close()
	}
	if err != nil {
		return 1
	}
	return 0
}
