// Package arch checks the direction of the dependencies DESIGN.md draws:
// backends know only the backend interface and libxl's config model, the
// RPC core knows no domains, and the driver knows no wire.
package arch

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// forbidden lists, per package, packages it must not depend on, even
// indirectly.
var forbidden = map[string][]string{
	// The simulated host gets what real Xen gets: libxl's configuration,
	// never libvirt's XML, the libxl backend or the daemon's config.
	"virtxend/internal/backend/sim": {
		"virtxend/internal/backend/libxl",
		"virtxend/internal/config",
		"virtxend/internal/domxml",
		"libvirt.org/go/libvirtxml",
	},
	// Real Xen gets the same configuration, translated by the driver.
	"virtxend/internal/backend/libxl": {
		"virtxend/internal/libxlconf",
		"virtxend/internal/config",
		"virtxend/internal/domxml",
		"libvirt.org/go/libvirtxml",
	},
	// No libvirt XML crosses the seam: the interface and the config model
	// it carries know nothing of libvirt.
	"virtxend/internal/backend": {"libvirt.org/go/libvirtxml", "virtxend/internal/domxml"},
	"virtxend/internal/libxltypes": {
		"libvirt.org/go/libvirtxml",
		"virtxend/internal/domxml",
		"virtxend/internal/config",
		"virtxend/internal/virerr",
	},
	"virtxend/internal/rpc":    {"virtxend/internal/driver"},
	"virtxend/internal/driver": {"virtxend/internal/rpc", "virtxend/internal/xdr", "virtxend/internal/libvirtd", "virtxend/internal/peer"},
	// The client of libvirt's daemons serves the driver through the
	// driver's own interfaces, without knowing it.
	"virtxend/internal/libvirtd": {"virtxend/internal/driver", "virtxend/internal/remote"},
	// The client side of the remote program is shared by libvirtd and
	// peer, and knows neither the driver nor the server side.
	"virtxend/internal/remoteclient": {"virtxend/internal/driver", "virtxend/internal/remote"},
	// A migration's destination is reached as any libvirt daemon is: the
	// peer implements the driver's seam, without the server side.
	"virtxend/internal/peer": {"virtxend/internal/remote", "virtxend/internal/libvirtd", "virtxend/internal/daemon"},
	// hook runs scripts: it knows no domain XML nor libvirt's errors
	// (the driver gives a failure libvirt's form).
	"virtxend/internal/hook": {"libvirt.org/go/libvirtxml", "virtxend/internal/virerr", "virtxend/internal/driver"},
	// libxllog only writes files: the backend hands it libxl's messages.
	"virtxend/internal/libxllog": {"virtxend/internal/backend", "virtxend/internal/driver", "virtxend/internal/daemon"},
}

// TestDependencyDirection runs go list -deps (with and without the libxl
// build tag, which adds the real Xen backend) and fails on any forbidden
// dependency, naming the path that brings it in.
func TestDependencyDirection(t *testing.T) {
	for _, tags := range []string{"", "libxl"} {
		for pkg, bad := range forbidden {
			deps := listDeps(t, pkg, tags)
			for _, b := range bad {
				if deps[b] {
					t.Errorf("%s (tags %q) depends on %s: %s", pkg, tags, b, importPath(t, pkg, b, tags))
				}
			}
		}
	}
}

// repoRoot is the module root, two levels above this file.
func repoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(self)))
}

func goList(t *testing.T, tags string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-tags=" + tags}, args...)...)
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, msg)
	}
	return string(out)
}

func listDeps(t *testing.T, pkg, tags string) map[string]bool {
	t.Helper()
	deps := map[string]bool{}
	for _, d := range strings.Fields(goList(t, tags, "-deps", pkg)) {
		deps[d] = true
	}
	return deps
}

// importPath finds a chain of imports from pkg to dep, for the message.
func importPath(t *testing.T, pkg, dep, tags string) string {
	t.Helper()
	imports := map[string][]string{}
	for _, line := range strings.Split(goList(t, tags, "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", pkg), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			imports[f[0]] = f[1:]
		}
	}
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == dep {
			chain := []string{p}
			for q := prev[p]; q != ""; q = prev[q] {
				chain = append([]string{q}, chain...)
			}
			return strings.Join(chain, " -> ")
		}
		for _, i := range imports[p] {
			if _, seen := prev[i]; !seen {
				prev[i] = p
				queue = append(queue, i)
			}
		}
	}
	return "(no import chain found)"
}
