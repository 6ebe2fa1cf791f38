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
	plain, err := drv.GetXMLDesc(ctx, d.UUID, 0)
	if err != nil || strings.Contains(plain, "secret") {
		t.Fatalf("dumpxml without SECURE shows the password (%v):\n%s", err, plain)
	}
	secure, err := drv.GetXMLDesc(ctx, d.UUID, uint32(libvirt.DomainXMLSecure))
	if err != nil || !strings.Contains(secure, "passwd='secret'") {
		t.Fatalf("dumpxml with SECURE lacks the password (%v):\n%s", err, secure)
	}
	onDisk, err := os.ReadFile(drv.configPath("vnc"))
	if err != nil || !strings.Contains(string(onDisk), "passwd='secret'") {
		t.Fatalf("the saved config lost the password (%v):\n%s", err, onDisk)
	}
	_, err = drv.GetXMLDesc(ctx, d.UUID, uint32(libvirt.DomainXMLUpdateCPU))
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlDomainGetXMLDesc")
}

// MIGRATABLE drops the implicit keyboard but, unlike INACTIVE, keeps the
// running guest's id, as libvirtd's dumpxml --migratable shows.
func TestXMLDescMigratableKeepsLiveView(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	d := define(t, drv, "mig", 1, `<devices><input type='keyboard' bus='xen'/></devices>`)
	started, err := drv.Create(ctx, d.UUID, 0)
	if err != nil {
		t.Fatal(err)
	}
	mig, err := drv.GetXMLDesc(ctx, d.UUID, uint32(libvirt.DomainXMLMigratable))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("<domain type='xen' id='%d'>", started.ID); !strings.HasPrefix(mig, want) {
		t.Errorf("migratable XML does not start with %q:\n%s", want, mig)
	}
	if strings.Contains(mig, "<input type='keyboard' bus='xen'/>") {
		t.Errorf("migratable XML keeps the implicit keyboard:\n%s", mig)
	}
	inactive, err := drv.GetXMLDesc(ctx, d.UUID, uint32(libvirt.DomainXMLMigratable|libvirt.DomainXMLInactive))
	if err != nil || strings.Contains(inactive, " id=") {
		t.Errorf("inactive migratable XML shows an id (%v):\n%s", err, inactive)
	}
}
