package peer

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/paths"
	"virtxend/internal/virerr"
	"virtxend/test/daemontest"
)

// TestRealDaemon dials the real virtxend (simulated host, temporary
// root) as a migration's source would: each URI form an admin uses opens
// it and passes the migration-parameters check, and a Prepare gets the
// daemon's own answer back: its error for a definition without an OS
// type proves the round trip.
func TestRealDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	sock := filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
	dir := t.TempDir()
	ssh, nc := fakeSSH(t, dir), fakeNC(t, dir)
	dialer := &Dialer{SocketDir: d.Paths.SocketDir(), KeepaliveInterval: 5 * time.Second, KeepaliveCount: 5}
	for _, uri := range []string{
		"xen+unix:///system?socket=" + sock,
		"xen:///system",
		fmt.Sprintf("xen+tcp://127.0.0.1:%d/system", startRelay(t, sock).port()),
		fmt.Sprintf("xen+ssh://root@dst/system?socket=%s&netcat=%s&command=%s", sock, nc, ssh),
	} {
		p := dial(t, dialer, uri)
		params := []libvirt.TypedParam{strParam("destination_xml", "<domain type='xen'><name>g</name></domain>")}
		_, err := p.Prepare(ctx, params, nil, 0)
		wantErr(t, uri+": Prepare", err, libvirt.ErrXMLError, virerr.FromDomain,
			"XML error: an os <type> must be specified")
		_, err = p.PrepareTunnel(ctx, params, nil, 0)
		wantErr(t, uri+": PrepareTunnel", err, libvirt.ErrXMLError, virerr.FromDomain,
			"XML error: an os <type> must be specified")
		if err := p.Close(); err != nil {
			t.Errorf("%s: Close: %v", uri, err)
		}
	}
}
