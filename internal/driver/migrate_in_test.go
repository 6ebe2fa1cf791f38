package driver

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/migration"
	"virtxend/internal/virerr"
)

// TestMigratePrepareErrors: what a destination refuses, with libvirt's
// errors, leaving no domain behind.
func TestMigratePrepareErrors(t *testing.T) {
	e := newEnv(t)
	drv, err := New(e.cfg, e.root, e.sim(), nil, Options{Hostname: func() (string, error) { return "localhost.localdomain", nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	cookie := migration.Cookie{Name: "g1", UUID: uuidOf(1), Hostname: "src", StreamVersion: 2}.Encode()
	newer := migration.Cookie{Name: "g1", UUID: uuidOf(1), Hostname: "src", StreamVersion: 3}.Encode()
	xml := strParam(libvirt.MigrateParamDestXML, domXML("g1", 1, ""))
	tests := []struct {
		name   string
		params []libvirt.TypedParam
		cookie []byte
		code   virerr.Code
		from   virerr.Domain
		msg    string
	}{
		{"no XML", nil, cookie, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: no domain XML passed"},
		{"newer stream", []libvirt.TypedParam{xml}, newer, libvirt.ErrOperationUnsupported, virerr.FromLibxl,
			"Operation not supported: Xen migration stream version '3' is not supported on this host"},
		{"localhost", []libvirt.TypedParam{xml}, cookie, libvirt.ErrInternalError, virerr.FromLibxl,
			"internal error: hostname on destination resolved to localhost, but migration requires an FQDN"},
		{"bad URI", []libvirt.TypedParam{xml, strParam(libvirt.MigrateParamURI, "tcp://:1")}, cookie, libvirt.ErrInvalidArg, virerr.FromLibxl,
			"invalid argument: missing host in migration URI: tcp://:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := drv.MigratePrepare(ctx, tt.params, tt.cookie, 0)
			wantErr(t, err, tt.code, tt.from, tt.msg)
			if _, err := drv.LookupByName(ctx, "g1"); err == nil {
				t.Errorf("a refused Prepare left the domain")
			}
		})
	}
	_, err = drv.MigrateFinish(ctx, []libvirt.TypedParam{strParam(libvirt.MigrateParamDestName, "nothere")}, 0, false)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromLibxl,
		"operation failed: Migration failed. No domain on destination host with matching name 'nothere'")
	define(t, drv, "idle", 2, "")
	_, err = drv.MigrateFinish(ctx, []libvirt.TypedParam{strParam(libvirt.MigrateParamDestName, "idle")}, 0, false)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl,
		"Requested operation is not valid: domain 'idle' is not processing incoming migration")
	// A Prepare whose source never sends, cancelled in Finish, leaves nothing.
	if _, err := drv.MigratePrepare(ctx, []libvirt.TypedParam{xml, strParam(libvirt.MigrateParamURI, "tcp://127.0.0.1")}, cookie, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := drv.MigrateFinish(ctx, []libvirt.TypedParam{strParam(libvirt.MigrateParamDestName, "g1")}, 0, true); err == nil {
		t.Errorf("a cancelled Finish succeeded")
	}
	if _, err := drv.LookupByName(ctx, "g1"); err == nil {
		t.Errorf("a cancelled incoming migration left the domain")
	}
}
