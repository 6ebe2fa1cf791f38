package drivertests

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestMigrateKilledAtEachPhase drives the five phases of a migration with
// go-libvirt as libvirt's client does (virDomainMigrateVersion3Full:
// a failed Perform is followed by a cancelled Finish and Confirm, a
// failed Finish by a cancelled Confirm), kills one daemon after each
// phase, and checks that once both serve again the guest runs on exactly
// one host.
func TestMigrateKilledAtEachPhase(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		after  string // the phase after which a daemon dies
		victim string // "src" or "dst"
		// where the guest runs at the end, and its state on the other host
		runsOn, srcState string
	}{
		{"source after Begin", "begin", "src", "src", "running (booted)"},
		{"destination after Prepare", "prepare", "dst", "src", "running (booted)"},
		{"source after Perform", "perform", "src", "dst", "paused (migrating)"},
		{"destination after Perform", "perform", "dst", "src", "running (migration canceled)"},
		{"source after Finish", "finish", "src", "dst", "paused (migrating)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := daemontest.StartHosts(t, "")
			defineStart(t, a.Daemon, "g", guestXML("g", ""))
			hosts := map[string]*daemontest.Host{"src": a, "dst": b}
			m := &phases{t: t, src: a.GoLibvirt(paths.RWSocketName), dst: b.GoLibvirt(paths.RWSocketName)}
			m.run(c.after, func() {
				h := hosts[c.victim]
				h.Cmd.Process.Kill()
				h.Wait(bound)
			})
			hosts[c.victim].Start()
			src, dst := hostState(a, "g"), hostState(b, "g")
			if c.runsOn == "src" && (src != c.srcState || dst != "") ||
				c.runsOn == "dst" && (src != c.srcState || dst != "running (migrated)") {
				t.Errorf("after the kill: source %q, destination %q; want it running on the %s (source %q)",
					src, dst, c.runsOn, c.srcState)
			}
			if c.srcState == "paused (migrating)" {
				// The admin's part: the copy that runs is the destination's.
				a.MustVirsh("destroy", "g")
			}
		})
	}
}

// phases is libvirt's client side of a migration, one call per phase.
type phases struct {
	t        *testing.T
	src, dst *libvirt.Libvirt
}

// run migrates g from src to dst, calling die after the phase named.
func (m *phases) run(after string, die func()) {
	const flags = uint32(libvirt.MigrateLive)
	step := func(phase string) {
		if phase == after {
			die()
		}
	}
	dom, err := m.src.DomainLookupByName("g")
	if err != nil {
		m.t.Fatal(err)
	}
	cookie, xml, err := m.src.DomainMigrateBegin3Params(dom, nil, flags)
	if err != nil {
		m.t.Fatal(err)
	}
	step("begin")
	_, uri, err := m.dst.DomainMigratePrepare3Params([]libvirt.TypedParam{param(libvirt.MigrateParamDestXML, xml)}, cookie, flags)
	if err != nil {
		m.src.DomainMigrateConfirm3Params(dom, nil, nil, flags, 1)
		return
	}
	step("prepare")
	_, err = m.src.DomainMigratePerform3Params(dom, nil, []libvirt.TypedParam{param(libvirt.MigrateParamURI, uri[0])}, nil, libvirt.DomainMigrateFlags(flags))
	cancelled := int32(0)
	if err != nil {
		cancelled = 1
	}
	step("perform")
	_, _, err = m.dst.DomainMigrateFinish3Params([]libvirt.TypedParam{param(libvirt.MigrateParamDestName, "g")}, nil, flags, cancelled)
	if err != nil {
		cancelled = 1
	}
	step("finish")
	m.src.DomainMigrateConfirm3Params(dom, nil, nil, flags, cancelled)
}

func param(field, value string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueString(value)}
}
