package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// daemonMemory reads VmRSS and VmHWM (peak) of pid, in KiB.
func daemonMemory(pid int) (rss, hwm int64) {
	kb := statusKB(pid)
	return kb["VmRSS"], kb["VmHWM"]
}

// daemonAnon is pid's anonymous resident memory (RssAnon), in KiB: its
// resident memory less the pages of its executable and libraries, which
// the page cache shares.
func daemonAnon(pid int) int64 { return statusKB(pid)["RssAnon"] }

// statusKB is the "NAME: N kB" figures of /proc/PID/status; none if pid
// is gone.
func statusKB(pid int) map[string]int64 {
	kb := map[string]int64{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return kb
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		value, isKB := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if v, err := strconv.ParseInt(value, 10, 64); ok && isKB && err == nil {
			kb[name] = v
		}
	}
	return kb
}

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// daemonCPU is the CPU time pid has used so far, user and system, over all
// its threads (utime and stime of /proc/PID/stat); 0 without a pid.
func daemonCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces
	// and parentheses itself: the fields after it start past the last ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime %q %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// daemonFDs counts pid's open file descriptors; -1 if unreadable.
func daemonFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}
