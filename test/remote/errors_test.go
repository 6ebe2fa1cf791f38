package remote

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestVirshErrorsAreLibvirts checks the messages virsh prints for the
// common mistakes, which come from the daemon's error replies.
func TestVirshErrorsAreLibvirts(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", pvXML("g1")))
	d.MustVirsh("start", "g1")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"dominfo", "nosuch"}, "failed to get domain 'nosuch'"},
		{[]string{"define", guestFile(t, "bad", "<domain")}, "Premature end of data"},
		{[]string{"define", guestFile(t, "kvm", strings.Replace(pvXML("k"), "type='xen'", "type='kvm'", 1))},
			"could not find capabilities for"},
		{[]string{"define", guestFile(t, "slash", pvXML("a/b"))}, "name a/b cannot contain '/'"},
		{[]string{"create", guestFile(t, "dup", pvXML("g1"))}, "already exists with uuid"},
		{[]string{"suspend", "Domain-0"}, "Domain-0 does not support requested operation"},
		// virCheckFlags' error has no "invalid argument" prefix.
		{[]string{"destroy", "--graceful", "g1"}, "error: unsupported flags (0x1) in function libxlDomainDestroyFlags"},
		{[]string{"define", guestFile(t, "nosrc", strings.Replace(pvXML("n"), "</os>", "</os><devices><disk type='file'><target dev='xvda'/></disk></devices>", 1))},
			"missing source information for device xvda"},
		{[]string{"undefine", "g1"}, ""}, // allowed on a running guest: it becomes transient
		// --validate refuses what libvirt's schema does not know; without
		// it, unknown elements are ignored as libvirt ignores them.
		{[]string{"define", "--validate", guestFile(t, "bogus", strings.Replace(pvXML("v1"), "</os>", "</os><bogus/>", 1))},
			"XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng\nElement domain has extra content: bogus"},
		{[]string{"create", "--validate", guestFile(t, "attr", strings.Replace(pvXML("v2"), "<domain ", "<domain foo='1' ", 1))},
			"Invalid attribute foo for element domain"},
		{[]string{"define", "--validate", guestFile(t, "v3", pvXML("v3"))}, ""},
		{[]string{"define", guestFile(t, "v4", strings.Replace(pvXML("v4"), "</os>", "</os><bogus/>", 1))}, ""},
		{[]string{"define", guestFile(t, "mcast", strings.Replace(pvXML("mcast"), "</os>",
			"</os><devices><interface type='bridge'><source bridge='xenbr0'/><mac address='01:00:5e:00:00:01'/></interface></devices>", 1))},
			"error: XML error: expected unicast mac address, found multicast '01:00:5e:00:00:01'"},
		{[]string{"define", guestFile(t, "pin2", strings.Replace(pvXML("pin2"), "</os>",
			"</os><cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='0' cpuset='2'/></cputune>", 1))},
			"error: internal error: duplicate vcpupin for vcpu '0'"},
		{[]string{"define", guestFile(t, "pinx", strings.Replace(pvXML("pinx"), "</os>",
			"</os><cputune><vcpupin vcpu='0' cpuset='x'/></cputune>", 1))},
			"error: invalid argument: Failed to parse bitmap 'x'"},
		// What libxl cannot take fails at start with the translation's
		// error, on the simulated host as on real Xen.
		{[]string{"create", guestFile(t, "e1000", strings.Replace(pvXML("pv-e1000"), "</os>",
			"</os><devices><interface type='bridge'><source bridge='xenbr0'/><model type='e1000'/></interface></devices>", 1))},
			"error: unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains"},
	}
	for _, c := range cases {
		r := d.Virsh(c.args...)
		if c.want == "" {
			if r.Code != 0 {
				t.Errorf("%v: exit %d %s", c.args, r.Code, r.Stderr)
			}
			continue
		}
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

func TestVirshReadOnly(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", pvXML("g1")))
	ro := func(args ...string) daemontest.Result {
		return daemontest.Run(t, "virsh", append([]string{"-q", "-c", d.ROURI()}, args...)...)
	}
	// Reads work on the read-only socket.
	if r := ro("list", "--all"); r.Code != 0 || !strings.Contains(r.Stdout, "g1") {
		t.Errorf("list on ro socket: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := ro("dumpxml", "g1"); r.Code != 0 {
		t.Errorf("dumpxml on ro socket: %d %s", r.Code, r.Stderr)
	}
	// Writes are refused, by the daemon (the socket forces read-only even
	// when virsh was not told -r) and by virsh itself with -r.
	for _, args := range [][]string{{"start", "g1"}, {"undefine", "g1"}, {"-r", "start", "g1"}} {
		r := ro(args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents") {
			t.Errorf("%v on ro socket: exit %d, %q", args, r.Code, r.Stderr)
		}
	}
	if r := ro("dumpxml", "--security-info", "g1"); r.Code == 0 || !strings.Contains(r.Stderr, "virDomainGetXMLDesc") {
		t.Errorf("dumpxml --security-info on ro socket: exit %d, %q", r.Code, r.Stderr)
	}
}

// Accepted forms come back as libvirt writes them, and --migratable keeps
// a running guest's live view (both checked against libvirtd 9.0).
func TestVirshDumpxmlCanonicalAndMigratable(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	xml := strings.Replace(pvXML("canon"), "</os>", "</os><cputune><vcpupin vcpu='1' cpuset='3,1-2'/></cputune>"+
		"<devices><interface type='bridge'><source bridge='xenbr0'/><mac address='0:16:3E:1:2:3'/></interface></devices>", 1)
	d.MustVirsh("define", guestFile(t, "canon", xml))
	d.MustVirsh("start", "canon")
	out := d.MustVirsh("dumpxml", "--migratable", "canon")
	for _, want := range []string{"<domain type='xen' id='", "<mac address='00:16:3e:01:02:03'/>", "<vcpupin vcpu='1' cpuset='1-3'/>"} {
		if !strings.Contains(out, want) {
			t.Errorf("dumpxml --migratable lacks %q:\n%s", want, out)
		}
	}
}
