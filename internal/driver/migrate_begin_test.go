package driver

import (
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/migration"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

func strParam(f, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
}

// TestMigrateBegin: the live definition and a cookie naming the guest,
// this host and libxl's stream version.
func TestMigrateBegin(t *testing.T) {
	e := newEnv(t)
	h := e.sim()
	drv, err := New(e.cfg, e.root, h, nil, Options{JobWait: 100 * time.Millisecond,
		Hostname: func() (string, error) { return "src.example.org", nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	g := define(t, drv, "g1", 1, "")
	if _, err := drv.Create(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	xml, cookie, err := drv.MigrateBegin(ctx, g, nil, uint32(libvirt.MigrateLive))
	if err != nil {
		t.Fatal(err)
	}
	live, _ := drv.GetXMLDesc(ctx, g, uint32(libvirt.DomainXMLSecure))
	if xml != live || !strings.Contains(xml, "<domain type='xen' id=") {
		t.Errorf("Begin XML is not the live secure definition:\n%s\nwant\n%s", xml, live)
	}
	c, err := migration.Decode(cookie)
	want := migration.Cookie{Name: "g1", UUID: uuidOf(1), Hostname: "src.example.org", StreamVersion: 2}
	if err != nil || c != want {
		t.Errorf("cookie %+v, %v; want %+v", c, err, want)
	}

	// Begin holds the job until Confirm ends the migration.
	if err := drv.Suspend(ctx, g); err == nil || !strings.Contains(err.Error(), "cannot acquire state change lock") {
		t.Errorf("Suspend during the migration: %v", err)
	}
	if err := drv.MigrateConfirm(ctx, g, nil, 0, true); err != nil {
		t.Errorf("Confirm, cancelled: %v", err)
	}

	// The destination XML, when given, is what the destination gets.
	dxml := domXML("g1", 1, "<description>there</description>")
	xml, _, err = drv.MigrateBegin(ctx, g, []libvirt.TypedParam{strParam("destination_xml", dxml), strParam("destination_name", "g2")}, 0)
	if err != nil || !strings.Contains(xml, "<description>there</description>") || strings.Contains(xml, " id=") {
		t.Errorf("Begin with destination XML = %q, %v", xml, err)
	}
	// A client that goes away ends the migrations it began.
	drv.MigrationCallerGone(0)
	if err := drv.Suspend(ctx, g); err != nil {
		t.Errorf("job still held after its client went: %v", err)
	}
	if ji, err := drv.GetJobInfo(ctx, g); err != nil || ji.Type != int32(libvirt.DomainJobNone) {
		t.Errorf("a job is left: %+v, %v", ji, err)
	}
}

func TestMigrateBeginErrors(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	g := define(t, drv, "g1", 1, "")
	off := define(t, drv, "off", 2, "")
	if _, err := drv.Create(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	withSnapshots := define(t, drv, "snap", 4, "")
	if _, err := drv.Create(ctx, withSnapshots, 0); err != nil {
		t.Fatal(err)
	}
	d, _ := drv.find(withSnapshots)
	d.mu.Lock()
	d.snapshotsLocked().Add(&dsnap.Def{Name: "s1"})
	d.snapshotsLocked().Add(&dsnap.Def{Name: "s2", ParentName: "s1"})
	d.mu.Unlock()
	hostdev := `<devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='3' slot='0' function='1'/></source></hostdev></devices>`
	tests := []struct {
		name   string
		dom    Domain
		params []libvirt.TypedParam
		flags  uint32
		code   virerr.Code
		from   virerr.Domain
		msg    string
	}{
		{"flags", g, nil, uint32(libvirt.MigrateNonSharedDisk), libvirt.ErrInvalidArg, virerr.FromLibxl,
			"unsupported flags (0x40) in function libxlDomainMigrateBegin3Params"},
		{"flags before params", g, []libvirt.TypedParam{strParam("listen_address", "::")}, uint32(libvirt.MigrateOffline), libvirt.ErrInvalidArg, virerr.FromLibxl, ""},
		{"params", g, []libvirt.TypedParam{strParam("listen_address", "::")}, 0, libvirt.ErrArgumentUnsupported, virerr.FromNone,
			"argument unsupported: parameter 'listen_address' not supported"},
		{"Domain-0", Domain{Name: Dom0Name}, nil, 0, libvirt.ErrOperationInvalid, virerr.FromLibxl,
			"Requested operation is not valid: Domain-0 cannot be migrated"},
		{"inactive", off, nil, 0, libvirt.ErrOperationInvalid, virerr.FromDomain,
			"Requested operation is not valid: domain is not running"},
		{"other uuid", g, []libvirt.TypedParam{strParam("destination_xml", domXML("g1", 3, ""))}, 0, libvirt.ErrConfigUnsupported, virerr.FromDomain,
			"unsupported configuration: Target domain uuid 03345678-1234-1234-1234-123456789abc does not match source 01345678-1234-1234-1234-123456789abc"},
		{"other name", g, []libvirt.TypedParam{strParam("destination_xml", domXML("g9", 1, ""))}, 0, libvirt.ErrConfigUnsupported, virerr.FromDomain,
			"unsupported configuration: Target domain name 'g9' does not match source 'g1'"},
		{"snapshots", withSnapshots, nil, 0, libvirt.ErrOperationInvalid, virerr.FromLibxl,
			"Requested operation is not valid: cannot migrate domain with 2 snapshots"},
		{"host device", g, []libvirt.TypedParam{strParam("destination_xml", domXML("g1", 1, hostdev))}, 0, libvirt.ErrOperationInvalid, virerr.FromLibxl,
			"Requested operation is not valid: domain has assigned host devices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := drv.MigrateBegin(ctx, tt.dom, tt.params, tt.flags)
			wantErr(t, err, tt.code, tt.from, tt.msg)
		})
	}
}
