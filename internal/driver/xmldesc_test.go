package driver

import (
	"fmt"
	"os"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// dumpxml honours its flags through domxml, and what the driver saves on
// disk keeps the secrets a user defined.
func TestXMLDescFlagsAndSecretsOnDisk(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	vnc := `<devices><graphics type='vnc' port='-1' passwd='secret'/></devices>`
	d := define(t, drv, "vnc", 1, vnc)
	plain, err := drv.GetXMLDesc(ctx, d, 0)
	if err != nil || strings.Contains(plain, "secret") {
		t.Fatalf("dumpxml without SECURE shows the password (%v):\n%s", err, plain)
	}
	secure, err := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLSecure))
	if err != nil || !strings.Contains(secure, "passwd='secret'") {
		t.Fatalf("dumpxml with SECURE lacks the password (%v):\n%s", err, secure)
	}
	onDisk, err := os.ReadFile(drv.configPath("vnc"))
	if err != nil || !strings.Contains(string(onDisk), "passwd='secret'") {
		t.Fatalf("the saved config lost the password (%v):\n%s", err, onDisk)
	}
	_, err = drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLUpdateCPU))
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlDomainGetXMLDesc")
}

// MIGRATABLE drops the implicit keyboard but, unlike INACTIVE, keeps the
// running guest's id, as libvirtd's dumpxml --migratable shows.
func TestXMLDescMigratableKeepsLiveView(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	d := define(t, drv, "mig", 1, `<devices><input type='keyboard' bus='xen'/></devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	mig, err := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLMigratable))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("<domain type='xen' id='%d'>", started.ID); !strings.HasPrefix(mig, want) {
		t.Errorf("migratable XML does not start with %q:\n%s", want, mig)
	}
	if strings.Contains(mig, "<input type='keyboard' bus='xen'/>") {
		t.Errorf("migratable XML keeps the implicit keyboard:\n%s", mig)
	}
	inactive, err := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLMigratable|libvirt.DomainXMLInactive))
	if err != nil || strings.Contains(inactive, " id=") {
		t.Errorf("inactive migratable XML shows an id (%v):\n%s", err, inactive)
	}
}

// dumpxml answers from a cache; every change of the definition or of the
// id shows in the next answer.
func TestXMLDescFollowsChanges(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	d := define(t, drv, "cached", 1, `<devices><graphics type='vnc' autoport='yes'/></devices>`)
	dump := func(flags libvirt.DomainXMLFlags) string {
		t.Helper()
		s, err := drv.GetXMLDesc(ctx, d, uint32(flags))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := func(what, xml, part string) {
		t.Helper()
		if !strings.Contains(xml, part) {
			t.Fatalf("after %s, dumpxml lacks %q:\n%s", what, part, xml)
		}
	}
	want("define", dump(0), "port='-1'")
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	live := dump(0)
	want("start", live, fmt.Sprintf("id='%d'", started.ID))
	want("start", live, "port='5900'")
	want("start, inactive view", dump(libvirt.DomainXMLInactive), "port='-1'")
	if err := drv.SetMemoryFlags(ctx, d, 65536, uint32(libvirt.DomainAffectLive)); err != nil {
		t.Fatal(err)
	}
	want("setmem", dump(0), "<currentMemory unit='KiB'>65536</currentMemory>")
	md := "<x>1</x>"
	key, uri := "m", "urn:x"
	if err := drv.SetMetadata(ctx, d, int32(libvirt.DomainMetadataElement), &md, &key, &uri, uint32(libvirt.DomainAffectLive)); err != nil {
		t.Fatal(err)
	}
	want("metadata", dump(0), "urn:x")
	if err := drv.Destroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	after := dump(0)
	if strings.Contains(after, " id=") || strings.Contains(after, "urn:x") {
		t.Fatalf("after destroy, dumpxml still shows the live definition:\n%s", after)
	}
}
