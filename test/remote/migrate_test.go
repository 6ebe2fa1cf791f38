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
