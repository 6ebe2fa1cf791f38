package store

import (
	"strconv"
	"strings"
)

// KillPoint is where an armed killpoints build killed itself (see
// killpoint_armed.go): the crash point's number, counted from 1 over the
// process's life, its step ("write:renamed") and the path it concerned.
// The hook prints it on stderr as one line, "virtxend-killpoint N STEP
// PATH", for the harness (cmd/virtxend-killpoints) to read back.
type KillPoint struct {
	N    int64
	Step string
	Path string
}

const killLinePrefix = "virtxend-killpoint "

// Line is the line the hook prints (without its newline).
func (k KillPoint) Line() string {
	return killLinePrefix + strconv.FormatInt(k.N, 10) + " " + k.Step + " " + k.Path
}

// ParseKillPoint reads a line the hook printed; ok is false for any other
// line. The path is the rest of the line, spaces and all.
func ParseKillPoint(line string) (k KillPoint, ok bool) {
	rest, ok := strings.CutPrefix(line, killLinePrefix)
	if !ok {
		return k, false
	}
	f := strings.SplitN(rest, " ", 3)
	if len(f) != 3 || f[1] == "" {
		return k, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != f[0] {
		return k, false
	}
	return KillPoint{N: n, Step: f[1], Path: f[2]}, true
}
