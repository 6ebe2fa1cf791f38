package config

import (
	"reflect"
	"slices"
)

// DiffDaemon names the keys whose values differ between old and new, in
// the order of the sample file, split into those a running daemon applies
// at once (logging, client and worker limits, keepalive; per-client
// settings affect clients that connect afterwards) and those that only a
// restart applies (sockets, their modes, group and auth, access drivers,
// listen backlogs, host UUID, audit).
func DiffDaemon(old, new *Daemon) (live, restart []string) {
	return diffKeys(old, new, daemonKeys())
}

// DiffLibxl is DiffDaemon for libxl.conf. Every key needs a restart (see
// libxlKeys), so live is always empty.
func DiffLibxl(old, new *Libxl) (live, restart []string) {
	live, restart = diffKeys(old, new, libxlKeys())
	// autoballoon also changes when it leaves or enters the file, since
	// then the host decides (libvirt's auto-detection).
	if old.AutoballoonSet != new.AutoballoonSet && !slices.Contains(restart, "autoballoon") {
		restart = append([]string{"autoballoon"}, restart...)
	}
	return live, restart
}

func diffKeys[T any](old, new *T, keys []key[T]) (live, restart []string) {
	for _, k := range keys {
		if sameField(k.field(old), k.field(new)) {
			continue
		}
		if k.live {
			live = append(live, k.name)
		} else {
			restart = append(restart, k.name)
		}
	}
	return live, restart
}

// sameField compares two field pointers; a nil and an empty list are the
// same setting.
func sameField(a, b any) bool {
	if la, ok := a.(*[]string); ok {
		return slices.Equal(*la, *b.(*[]string))
	}
	return reflect.DeepEqual(a, b)
}
