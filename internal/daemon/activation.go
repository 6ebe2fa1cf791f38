package daemon

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"
)

// takeActivation collects the sockets systemd passed us, keyed by the unit
// name in LISTEN_FDNAMES. It must run before anything else opens files, and
// it clears the variables so that children do not inherit them. Without
// LISTEN_PID for this process it returns nothing: plain mode.
func takeActivation() (map[string]*os.File, error) {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	nfds, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	namesVar, haveNames := os.LookupEnv("LISTEN_FDNAMES")
	if nfds > 0 && !haveNames {
		clearActivationEnv() // the daemon exits: the fds need no care
		return nil, fmt.Errorf("missing LISTEN_FDNAMES env from systemd socket activation")
	}
	if names := strings.Split(namesVar, ":"); nfds > 0 && len(names) != nfds {
		clearActivationEnv()
		return nil, fmt.Errorf("expecting %d FD names but got %d", nfds, len(names))
	}
	files := map[string]*os.File{}
	for _, f := range activation.Files(true) {
		if _, dup := files[f.Name()]; dup {
			return nil, fmt.Errorf("systemd passed two sockets named %q", f.Name())
		}
		files[f.Name()] = f
	}
	return files, nil
}

func clearActivationEnv() {
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
}

// claimActivation moves each spec's activation fd into the spec and fails on
// any fd no spec claimed, as libvirt does: an unknown socket is a unit
// misconfiguration that must not be silently ignored.
func claimActivation(specs []socketSpec, files map[string]*os.File) error {
	for i := range specs {
		if f, ok := files[specs[i].unitName]; ok {
			specs[i].activation = f
			delete(files, specs[i].unitName)
		}
	}
	if len(files) > 0 {
		var names []string
		for n, f := range files {
			names = append(names, n)
			f.Close()
		}
		return fmt.Errorf("some activation file descriptors are unclaimed: %s", strings.Join(names, ", "))
	}
	return nil
}
