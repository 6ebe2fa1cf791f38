//go:build killpoints

package store

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// KillPointEnv names the environment variable that arms a killpoints
// build: VIRTXEND_KILLPOINT=N makes the Nth crash point the process
// passes (counting from its start, over every file it writes, removes,
// links or cleans up) SIGKILL the process itself, after printing
// "virtxend-killpoint N STEP PATH" on stderr for the harness
// (cmd/virtxend-killpoints) to record where the kill fell.
//
// It exists only in binaries built with -tags killpoints. The production
// build compiles killpoint.go instead, where a crash point is an empty
// function, so that build cannot be made to die by its environment and
// pays nothing for the hook.
const KillPointEnv = "VIRTXEND_KILLPOINT"

// The hook's state is process-wide because the process is what it kills;
// it is set once, before any write, and counted atomically.
var (
	killAt = armedAt()
	passed atomic.Int64
)

func armedAt() int64 {
	n, err := strconv.ParseInt(os.Getenv(KillPointEnv), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func crashPoint(step, path string) {
	if killAt == 0 {
		return
	}
	if n := passed.Add(1); n == killAt {
		fmt.Fprintln(os.Stderr, KillPoint{N: n, Step: step, Path: path}.Line())
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way: go no further
	}
}
