package driver

import (
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
