package remote

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/migration"
	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestMigrateBeginGoLibvirt: Begin (the source's first phase) with
// go-libvirt: the live definition, and a cookie a libvirt destination
// reads.
func TestMigrateBeginGoLibvirt(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	l := d.GoLibvirt(paths.RWSocketName)
	dom, err := l.DomainCreateXML(pvXML("m1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	cookie, xml, err := l.DomainMigrateBegin3Params(dom, nil, uint32(libvirt.MigrateLive))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(xml, "<name>m1</name>") {
		t.Errorf("Begin XML %q", xml)
	}
	if c, err := migration.Decode(cookie); err != nil || c.Name != "m1" || c.StreamVersion != migration.StreamVersion {
		t.Errorf("cookie %q: %+v %v", cookie, c, err)
	}
	off, err := l.DomainDefineXML(pvXML("m2"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = l.DomainMigrateBegin3Params(off, nil, 0)
	wantLibvirtError(t, "Begin of an inactive guest", err, libvirt.ErrOperationInvalid, "domain is not running")
}

// TestVirshMigrateGetsPastBegin: with stock virsh between two daemons,
// migration now fails at the destination's Prepare (still to come), not
// at the source's Begin; the guest keeps running on the source, its job
// free. (virsh warns the guest is "probably left in 'paused' state": its
// Confirm, also to come, is refused.)
func TestVirshMigrateGetsPastBegin(t *testing.T) {
	src := daemontest.Start(t, daemontest.NewRoot(t))
	dst := daemontest.Start(t, daemontest.NewRoot(t))
	src.MustVirsh("create", guestFile(t, "v1", pvXML("v1")))
	r := src.Virsh("migrate", "--live", "v1", dst.URI())
	if r.Code == 0 || !strings.Contains(r.Stderr, "virDomainMigratePrepare3Params") {
		t.Fatalf("virsh migrate: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if s := src.DomState("v1"); !strings.HasPrefix(s, "running") {
		t.Errorf("source guest %q after the failed migration", s)
	}
	src.MustVirsh("suspend", "v1")
}
