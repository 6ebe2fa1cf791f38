package driver

import (
	"fmt"
	"slices"
	"strconv"

	libvirt "github.com/digitalocean/go-libvirt"
)

// stateNames are libvirt's names of the domain states, by number
// (virDomainState), and reasonNames those of each state's reasons
// (virDomainRunningReason...), as its status files have them. The reasons
// are libvirt 9.0's: one a newer libvirt added is written as "unknown", so
// that an older libvirt taking the guest over still reads the file; a
// newer libvirt's names are read.
var (
	stateNames  = []string{"nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"}
	reasonNames = [][]string{
		{"unknown"},
		{"unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
			"save canceled", "wakeup", "crashed", "post-copy", "post-copy failed"},
		{"unknown"},
		{"unknown", "user", "migration", "save", "dump", "ioerror", "watchdog", "from snapshot", "shutdown",
			"snapshot", "panicked", "starting up", "post-copy", "post-copy failed"},
		{"unknown", "user"},
		{"unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon"},
		{"unknown", "panicked"},
		{"unknown"},
	}
	// newerReasons are reasons libvirt added after 9.0 (read, not written).
	newerReasons = map[string][]string{"paused": {"api error"}}
)

// stateNamesOf is the state and reason of a status file for state and
// reason.
func stateNamesOf(state libvirt.DomainState, reason int32) (string, string) {
	if state < 0 || int(state) >= len(stateNames) {
		return stateNames[0], "unknown"
	}
	reasons := reasonNames[state]
	if reason < 0 || int(reason) >= len(reasons) {
		return stateNames[state], "unknown"
	}
	return stateNames[state], reasons[reason]
}

// readState reads the file's state and reason, by libvirt's names or, in an
// earlier virtxend's file, by number. A state is required, as libvirt
// requires it; a reason left out is "unknown".
func (st *statusFile) readState() error {
	if n, err := strconv.ParseInt(st.State, 10, 32); err == nil {
		r, err := strconv.ParseInt(st.Reason, 10, 32)
		if err != nil && st.Reason != "" {
			return fmt.Errorf("invalid domain state reason '%s'", st.Reason)
		}
		st.state, st.reason, st.numeric = libvirt.DomainState(n), int32(r), true
		return nil
	}
	s := slices.Index(stateNames, st.State)
	if s < 0 {
		return fmt.Errorf("invalid domain state '%s'", st.State)
	}
	st.state = libvirt.DomainState(s)
	if st.Reason == "" {
		return nil
	}
	reasons := append(slices.Clip(reasonNames[s]), newerReasons[st.State]...)
	r := slices.Index(reasons, st.Reason)
	if r < 0 {
		return fmt.Errorf("invalid domain state reason '%s'", st.Reason)
	}
	st.reason = int32(r)
	return nil
}
