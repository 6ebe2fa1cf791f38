package remote

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// wantLibvirtError checks err is a libvirt error with code and a message
// containing msg. (go-libvirt drops the error domain; the python tests
// check domains.)
func wantLibvirtError(t *testing.T, what string, err error, code libvirt.ErrorNumber, msg string) {
	t.Helper()
	var e libvirt.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v (%T), want libvirt code %d", what, err, err, code)
	}
	if e.Code != uint32(code) || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: code %d %q, want code %d and %q", what, e.Code, e.Message, code, msg)
	}
}

func TestGoLibvirtLifecycle(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	l := d.GoLibvirt(paths.RWSocketName) // go-libvirt's non-canonical bools must be accepted
	if v, err := l.ConnectGetLibVersion(); err != nil || v != 11003000 {
		t.Fatalf("lib version %d %v", v, err)
	}
	dom, err := l.DomainDefineXML(pvXML("go1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DomainCreate(dom); err != nil {
		t.Fatal(err)
	}
	doms, n, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive)
	if err != nil || n != 2 || len(doms) != 2 {
		t.Fatalf("active domains %v %d %v", doms, n, err)
	}
	_, n, _ = l.ConnectListAllDomains(0, 0)
	if n != 2 {
		t.Errorf("count-only list: %d", n)
	}
	// Domains are resolved by UUID; the name in the argument is ignored.
	renamed := dom
	renamed.Name = "something-else"
	if state, _, err := l.DomainGetState(renamed, 0); err != nil || state != int32(libvirt.DomainRunning) {
		t.Errorf("state by uuid: %d %v", state, err)
	}
	_, err = l.DomainLookupByName("nosuch")
	wantLibvirtError(t, "lookup of a missing domain", err, libvirt.ErrNoDomain, "Domain not found")
	_, err = l.DomainDefineXML("<domain")
	wantLibvirtError(t, "bad XML", err, libvirt.ErrXMLDetail, "Premature end of data")
	err = l.DomainCreate(dom)
	wantLibvirtError(t, "start of a running guest", err, libvirt.ErrOperationInvalid, "already running")
	// libvirt's list limit, REMOTE_DOMAIN_LIST_MAX, crossed.
	_, err = l.ConnectListDomains(16385)
	wantLibvirtError(t, "16385 ids", err, libvirt.ErrRPC, "maxids > REMOTE_DOMAIN_LIST_MAX")
	_, err = l.ConnectListDefinedDomains(16385)
	wantLibvirtError(t, "16385 names", err, libvirt.ErrRPC, "maxnames > REMOTE_DOMAIN_LIST_MAX")
	if ids, err := l.ConnectListDomains(16384); err != nil || len(ids) != 2 {
		t.Errorf("16384 ids: %v %v", ids, err)
	}
	if n, err := l.DomainSnapshotNum(dom, 0); err != nil || n != 0 {
		t.Errorf("snapshot count: %d %v", n, err)
	}
	_, err = l.DomainSnapshotCurrent(dom, 0)
	wantLibvirtError(t, "current snapshot", err, libvirt.ErrNoDomainSnapshot, "the domain does not have a current snapshot")
	_, err = l.DomainSnapshotLookupByName(dom, "nosuch", 0)
	wantLibvirtError(t, "missing snapshot", err, libvirt.ErrNoDomainSnapshot, "no domain snapshot with matching name 'nosuch'")
	_, err = l.DomainSnapshotListNames(dom, 16385, 0)
	wantLibvirtError(t, "16385 snapshot names", err, libvirt.ErrRPC, "maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX")
	if err := l.DomainDestroy(dom); err != nil {
		t.Fatal(err)
	}
	if err := l.DomainUndefine(dom); err != nil {
		t.Fatal(err)
	}
}

func TestGoLibvirtWritesDeniedOnReadOnlySocket(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	rw := d.GoLibvirt(paths.RWSocketName)
	dom, err := rw.DomainDefineXML(pvXML("g1"))
	if err != nil {
		t.Fatal(err)
	}
	ro := d.GoLibvirt(paths.ROSocketName) // go-libvirt does not check read-only itself
	if _, err := ro.DomainGetXMLDesc(dom, 0); err != nil {
		t.Errorf("a read on the ro socket failed: %v", err)
	}
	for what, call := range map[string]func() error{
		"create":          func() error { return ro.DomainCreate(dom) },
		"define":          func() error { _, err := ro.DomainDefineXML(pvXML("g2")); return err },
		"undefine":        func() error { return ro.DomainUndefine(dom) },
		"destroy":         func() error { return ro.DomainDestroy(dom) },
		"set autostart":   func() error { return ro.DomainSetAutostart(dom, 1) },
		"guest vcpus":     func() error { _, err := ro.DomainGetVcpusFlags(dom, uint32(libvirt.DomainVCPUGuest)); return err },
		"domcapabilities": func() error { _, err := ro.ConnectGetDomainCapabilities(nil, nil, nil, nil, 0); return err },
	} {
		wantLibvirtError(t, what, call(), libvirt.ErrOperationDenied, "read only access prevents vir")
	}
	// virDomainGetXMLDesc words its own refusal, for SECURE and MIGRATABLE.
	for _, flags := range []libvirt.DomainXMLFlags{libvirt.DomainXMLSecure, libvirt.DomainXMLMigratable} {
		_, err := ro.DomainGetXMLDesc(dom, flags)
		wantLibvirtError(t, "dumpxml with flags", err, libvirt.ErrOperationDenied,
			"operation forbidden: virDomainGetXMLDesc with secure flag")
	}
}

// A procedure the daemon does not implement is still refused to a
// read-only client first, as libvirt's entry points check read-only
// before the driver; a read-write client learns it is not supported.
func TestGoLibvirtUnsupportedWriteOnReadOnlySocket(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	rw := d.GoLibvirt(paths.RWSocketName)
	dom, err := rw.DomainDefineXML(pvXML("g1"))
	if err != nil {
		t.Fatal(err)
	}
	ro := d.GoLibvirt(paths.ROSocketName)
	wantLibvirtError(t, "setvcpu on ro", ro.DomainSetVcpu(dom, "1", 0, 0), libvirt.ErrOperationDenied,
		"operation forbidden: read only access prevents virDomainSetVcpu")
	wantLibvirtError(t, "setvcpu on rw", rw.DomainSetVcpu(dom, "1", 0, 0), libvirt.ErrNoSupport,
		"this function is not supported by the connection driver: virDomainSetVcpu")
	// Snapshot reads pass on the read-only socket, changes do not.
	if n, err := ro.DomainSnapshotNum(dom, 0); err != nil || n != 0 {
		t.Errorf("snapshot count on ro: %d %v", n, err)
	}
	_, err = ro.DomainSnapshotCreateXML(dom, "<domainsnapshot/>", 0)
	wantLibvirtError(t, "snapshot on ro", err, libvirt.ErrOperationDenied,
		"operation forbidden: read only access prevents virDomainSnapshotCreateXML")
	// Reads that libvirt lets through answer "not supported" on both.
	_, _, err = ro.DomainListAllCheckpoints(dom, 1, 0)
	wantLibvirtError(t, "checkpoints on ro", err, libvirt.ErrNoSupport,
		"this function is not supported by the connection driver: virDomainListAllCheckpoints")
}

// rawClient speaks the protocol by hand for what no client library sends.
func rawClient(t *testing.T, d *daemontest.Daemon) *libvirt.Libvirt {
	return libvirt.NewWithDialer(dialers.NewAlreadyConnected(dialRW(t, d)))
}

// dialRW connects to d's read-write socket, closed when the test ends.
func dialRW(t *testing.T, d *daemontest.Daemon) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("unix", filepath.Join(d.Paths.SocketDir(), paths.RWSocketName), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestCallsBeforeOpenAndAfterClose(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	conn := dialRW(t, d)
	l := libvirt.NewWithDialer(dialers.NewAlreadyConnected(conn))
	if err := l.ConnectToURI("xen:///system"); err != nil {
		t.Fatal(err)
	}
	if err := l.Disconnect(); err != nil { // CONNECT_CLOSE: the daemon then closes the socket
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, net.ErrClosed) {
		t.Errorf("socket still open after CONNECT_CLOSE: %v", err)
	}
	// A wrong URI path is refused as libxl refuses it.
	l2 := rawClient(t, d)
	err := l2.ConnectToURI("xen:///session")
	if err == nil {
		t.Fatal("xen:///session was accepted")
	}
}
