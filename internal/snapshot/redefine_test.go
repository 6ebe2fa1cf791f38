package snapshot

import (
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

const vmUUID = "6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a"

func mustDomain(t testing.TB) *libvirtxml.Domain {
	t.Helper()
	d, err := domxml.Parse(xenDomain)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRedefinePrepErrors(t *testing.T) {
	dom := mustDomain(t)
	renamed := domxml.Copy(dom)
	renamed.Name = "other"
	foreign := domxml.Copy(dom)
	foreign.UUID = "00000000-0000-0000-0000-000000000001"
	cases := []struct {
		def      *Def
		diskOnly bool
		dom      virerr.Domain
		msg      string
	}{
		{&Def{Name: "s", ParentName: "s"}, false, virerr.FromDomain,
			"invalid argument: cannot set moment s as its own parent"},
		{&Def{Name: "s", ParentName: "zz"}, false, virerr.FromDomain,
			"invalid argument: parent zz for moment s not found"},
		{&Def{Name: "root1", ParentName: "a1", State: StateRunning}, false, virerr.FromDomain,
			"invalid argument: parent a would create cycle to root1"},
		{&Def{Name: "s", State: StateRunning}, true, virerr.FromDomainSnapshot,
			"invalid argument: disk-only flag for snapshot s requires disk-snapshot state"},
		{&Def{Name: "s", State: StateRunning, Dom: foreign}, false, virerr.FromDomainSnapshot,
			"invalid argument: definition for snapshot s must use uuid " + vmUUID},
		{&Def{Name: "a2", ParentName: "a", State: StateShutoff}, false, virerr.FromDomainSnapshot,
			"invalid argument: cannot change between online and offline snapshot state in snapshot a2"},
		{&Def{Name: "a1", ParentName: "a", State: StateShutoff}, false, virerr.FromDomainSnapshot,
			"invalid argument: cannot change between disk only and full system in snapshot a1"},
		{&Def{Name: "b", ParentName: "root1", State: StateRunning, Dom: renamed}, false, virerr.FromDomain,
			"unsupported configuration: Target domain name 'other' does not match source 'vm1'"},
		{&Def{Name: "s", State: StateRunning}, false, virerr.FromDomainSnapshot,
			"internal error: missing domain in snapshot"},
	}
	for _, c := range cases {
		tr := smallTree(t)
		tr.Lookup("b").Def.Dom = domxml.Copy(dom)
		_, err := tr.RedefinePrep(c.def, dom, c.diskOnly)
		if e := virerr.As(err); err == nil || e.Domain != c.dom || e.Error() != c.msg {
			t.Errorf("%s: %v (domain %d), want %s", c.def.Name, err, e.Domain, c.msg)
		}
	}
}

// A new snapshot goes in with its disks aligned; a redefinition of an
// existing one without a domain takes that one's, and keeps its children.
func TestRedefine(t *testing.T) {
	dom := mustDomain(t)
	tr := NewTree()
	def, err := Parse("<domainsnapshot><name>s1</name><state>running</state><creationTime>10</creationTime>"+
		xenDomain+"</domainsnapshot>", ParseRedefine)
	if err != nil {
		t.Fatal(err)
	}
	existing, err := tr.RedefinePrep(def, dom, false)
	if err != nil || existing != nil {
		t.Fatal(err, existing)
	}
	if got := summary(def); got != "xvda:internal xvdb:internal" {
		t.Errorf("aligned %s", got)
	}
	s1, _ := tr.Add(def)
	child, _ := tr.Add(&Def{Name: "s2", ParentName: "s1", CreationTime: 11, State: StateRunning})

	again, err := Parse("<domainsnapshot><name>s1</name><description>now described</description><state>paused</state>"+
		"<creationTime>10</creationTime><disks><disk name='xvdb' snapshot='internal'/></disks></domainsnapshot>", ParseRedefine)
	if err != nil {
		t.Fatal(err)
	}
	existing, err = tr.RedefinePrep(again, dom, false)
	if err != nil || existing != s1 {
		t.Fatal(err, existing)
	}
	if got := summary(again); got != "xvda:internal xvdb:internal" {
		t.Errorf("aligned %s", got)
	}
	tr.Replace(existing, again)
	if s1.Def != again || again.Dom == nil || child.Parent() != s1 || tr.Len() != 2 {
		t.Errorf("replace: %+v", s1.Def)
	}
	if _, err := tr.RedefinePrep(&Def{Name: "s3", State: StateDiskSnapshot, Dom: domxml.Copy(dom)}, dom, true); err == nil {
		t.Error("disk-only snapshot of a domain with files that do not exist got names")
	} else if !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("%v", err)
	}
}
