package peer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// TestCalls: the calls of a peer-to-peer migration, over a Unix socket
// named in the URI.
func TestCalls(t *testing.T) {
	f := startFake(t, nil)
	p := dial(t, &Dialer{}, "xen+unix:///system?socket="+f.path)

	uri, err := p.Prepare(ctx, []libvirt.TypedParam{strParam("destination_name", "g")}, []byte("<cookie/>"), 1)
	if err != nil || uri != "tcp://dst:49152" {
		t.Fatalf("Prepare: %q %v", uri, err)
	}
	if uri, err := p.Prepare(ctx, []libvirt.TypedParam{strParam("destination_name", "nouri")}, nil, 1); err != nil || uri != "" {
		t.Fatalf("Prepare without uri_out: %q %v", uri, err)
	}
	_, err = p.Prepare(ctx, []libvirt.TypedParam{strParam("destination_name", "bad")}, nil, 1)
	wantErr(t, "Prepare relays", err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: domain 'bad' is already active")

	if err := p.Finish(ctx, nil, 1, false); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	wantErr(t, "Finish cancelled", p.Finish(ctx, nil, 1, true), libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: migration cancelled")

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.opened, f.cancelled, f.closed) != "[xen:///system] [0 1] 1" {
		t.Fatalf("opened %q, cancelled %v, closed %d", f.opened, f.cancelled, f.closed)
	}
}

// TestTunnel: the data of a tunnelled migration reaches the destination,
// which confirms it at Finish.
func TestTunnel(t *testing.T) {
	f := startFake(t, nil)
	p := dial(t, &Dialer{}, "xen+unix:///system?socket="+f.path)
	tun, err := p.PrepareTunnel(ctx, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 100000) // several stream packets
	if n, err := tun.Write(data); n != len(data) || err != nil {
		t.Fatalf("wrote %d: %v", n, err)
	}
	if err := tun.Finish(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.finished || !bytes.Equal(f.tunnel.Bytes(), data) {
		t.Fatalf("finished %v, got %d bytes", f.finished, f.tunnel.Len())
	}
}

// TestDefaultSocket: xen:///system is the daemon's own socket in the
// dialer's directory.
func TestDefaultSocket(t *testing.T) {
	f := startFake(t, nil)
	p := dial(t, &Dialer{SocketDir: filepath.Dir(f.path)}, "xen:///system")
	if _, err := p.Prepare(ctx, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	_, err := (&Dialer{SocketDir: "/nonexistent"}).Dial(ctx, "xen:///system")
	wantErr(t, "no daemon", err, libvirt.ErrSystemError, virerr.FromRPC,
		"Failed to connect socket to '/nonexistent/virtxend-sock': No such file or directory")
}

// TestNoMigrationParams: a destination without migration parameters is
// refused as libxl refuses it.
func TestNoMigrationParams(t *testing.T) {
	f := startFake(t, func(f *fake) { f.noParam.Store(true) })
	_, err := (&Dialer{}).Dial(ctx, "xen+unix:///system?socket="+f.path)
	wantErr(t, "Dial", err, libvirt.ErrOperationFailed, virerr.FromLibxl,
		"operation failed: Destination libvirt does not support migration with extensible parameters")
}

// TestTCP: xen+tcp through a relay to the destination's socket; a server
// asking for SASL is refused; a closed port says so.
func TestTCP(t *testing.T) {
	f := startFake(t, nil)
	r := startRelay(t, f.path)
	p := dial(t, &Dialer{}, fmt.Sprintf("xen+tcp://127.0.0.1:%d/system", r.port()))
	if uri, err := p.Prepare(ctx, nil, nil, 0); err != nil || uri != "tcp://dst:49152" {
		t.Fatalf("Prepare: %q %v", uri, err)
	}

	sasl := startFake(t, func(f *fake) { f.auth = []libvirt.AuthType{1} })
	_, err := (&Dialer{}).Dial(ctx, fmt.Sprintf("xen+tcp://127.0.0.1:%d/system", startRelay(t, sasl.path).port()))
	wantErr(t, "SASL", err, libvirt.ErrAuthFailed, virerr.FromRemote, "authentication failed: unsupported authentication type 1")

	r.ln.Close()
	_, err = (&Dialer{}).Dial(ctx, fmt.Sprintf("xen+tcp://127.0.0.1:%d/system", r.port()))
	wantErr(t, "closed port", err, libvirt.ErrSystemError, virerr.FromRPC,
		fmt.Sprintf("unable to connect to server at '127.0.0.1:%d': Connection refused", r.port()))
}

// TestKeepalive: a destination that stops answering is given up after
// keepalive_count unanswered PINGs, and the call waiting on it fails
// with libvirt's keepalive error.
func TestKeepalive(t *testing.T) {
	f := startFake(t, nil)
	r := startRelay(t, f.path)
	p := dial(t, &Dialer{KeepaliveInterval: 20 * time.Millisecond, KeepaliveCount: 2},
		fmt.Sprintf("xen+tcp://127.0.0.1:%d/system", r.port()))
	time.Sleep(150 * time.Millisecond) // answered PINGs keep it open
	if _, err := p.Prepare(ctx, nil, nil, 0); err != nil {
		t.Fatalf("Prepare while answered: %v", err)
	}
	r.stalled.Store(true)
	start := time.Now()
	_, err := p.Prepare(ctx, nil, nil, 0)
	wantErr(t, "Prepare after the destination went silent", err, libvirt.ErrInternalError, virerr.FromRPC,
		"internal error: connection closed due to keepalive timeout")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestSSH: xen+ssh runs ssh with libvirt's arguments, and the remote
// command (nc here, as socket= asks) carries the connection.
func TestSSH(t *testing.T) {
	f := startFake(t, nil)
	dir := t.TempDir()
	ssh, nc := fakeSSH(t, dir), fakeNC(t, dir)
	p := dial(t, &Dialer{}, fmt.Sprintf("xen+ssh://root@h2:2222/system?socket=%s&netcat=%s&command=%s&no_verify=1", f.path, nc, ssh))
	if uri, err := p.Prepare(ctx, nil, nil, 0); err != nil || uri != "tcp://dst:49152" {
		t.Fatalf("Prepare: %q %v", uri, err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "ssh.args"))
	want := strings.Join([]string{"-p", "2222", "-l", "root", "-T", "-e", "none", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "--", "h2",
		`sh -c 'if '` + nc + `' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'` + nc + `' $ARG -U ` + f.path + `'`}, "\n") + "\n"
	if string(args) != want {
		t.Fatalf("ssh got\n%s\nwant\n%s", args, want)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSSHFails: ssh's own words explain a connection that never was.
func TestSSHFails(t *testing.T) {
	dir := t.TempDir()
	ssh := script(t, dir, "ssh", "sleep 0.2\necho 'ssh: Could not resolve hostname h2: Name or service not known' >&2\nexit 255\n")
	_, err := (&Dialer{}).Dial(ctx, "xen+ssh://h2/system?command="+ssh)
	w := virerr.As(err).Wire()
	// Reset, as libvirt's socket pair is, when ssh exits without reading
	// what was sent; or at the end of its output if it had read it.
	reset := "Cannot recv data: ssh: Could not resolve hostname h2: Name or service not known: Connection reset by peer"
	eof := "End of file while reading data: ssh: Could not resolve hostname h2: Name or service not known: Input/output error"
	if w.Code != libvirt.ErrSystemError || w.Domain != virerr.FromRPC || (w.Message != reset && w.Message != eof) {
		t.Fatalf("%+v", w)
	}

	_, err = (&Dialer{}).Dial(ctx, "xen+ssh://h2/system?command=/nonexistent/ssh")
	wantErr(t, "no ssh", err, libvirt.ErrSystemError, virerr.FromNone, "cannot execute binary /nonexistent/ssh: No such file or directory")
	_, err = (&Dialer{}).Dial(ctx, "xen+ssh://h2/system?command=no-such-ssh-here")
	wantErr(t, "no ssh in PATH", err, libvirt.ErrSystemError, virerr.FromNone, "Cannot find 'no-such-ssh-here' in path: No such file or directory")
}

// TestExt: the ext transport's command carries the connection.
func TestExt(t *testing.T) {
	f := startFake(t, nil)
	dir := t.TempDir()
	cmd := script(t, dir, "connect", fmt.Sprintf("exec '%s' -U '%s'\n", fakeNC(t, dir), f.path))
	p := dial(t, &Dialer{}, "xen+ext:///system?command="+cmd)
	if _, err := p.Prepare(ctx, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
}

// TestUnsupportedTransports: as libvirt built without them says it.
func TestUnsupportedTransports(t *testing.T) {
	for _, tr := range []string{"tls", "libssh", "libssh2"} {
		_, err := (&Dialer{}).Dial(ctx, "xen+"+tr+"://h2/system")
		wantErr(t, tr, err, libvirt.ErrSystemError, virerr.FromRPC, tr+" transport support was not enabled: Function not implemented")
	}
	_, err := (&Dialer{}).Dial(ctx, "xen://h2/system")
	if !errorsIsErrno(err, syscall.ENOSYS) {
		t.Errorf("xen://h2/system (TLS): %v", err)
	}
}

func errorsIsErrno(err error, errno syscall.Errno) bool {
	e := virerr.As(err)
	return e != nil && e.Wire().Int1 == int32(errno)
}

// TestRemoteCommand: what ssh runs on the remote host, byte for byte as
// libvirt 11.3 builds it (virsh 9.0's own, with 11.3's virt-ssh-helper
// URI keeping mode and socket).
func TestRemoteCommand(t *testing.T) {
	nc := `if 'nc' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' $ARG -U /run/libvirt/libvirt-sock`
	for _, c := range []struct{ uri, want string }{
		{"xen+ssh://root@hostA/system",
			"sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     virt-ssh-helper 'xen:///system'; else    " + nc + "; fi'"},
		{"xen+ssh://hostG/system?x=it's%20ok&mode=legacy&proxy=native&y=a/b#frag",
			`sh -c 'virt-ssh-helper '''\''xen:///system?x=it%27s%20ok&mode=legacy&y=a%2Fb#frag'\'''''`},
		{"xen+ssh://u@hostC:22/system?netcat=/opt/my%20nc&keyfile=/k&no_verify=1",
			`sh -c 'if '''\''/opt/my nc'\'''' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'''\''/opt/my nc'\'''' $ARG -U /run/libvirt/libvirt-sock'`},
		{"xen+ssh://hostD/system?proxy=native&name=xen:///other", `sh -c 'virt-ssh-helper 'xen:///other''`},
	} {
		tg, err := parseURI(c.uri, dir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tg.remoteCommand()
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %s\nwant %s (%v)", c.uri, got, c.want, err)
		}
	}
	tg, _ := parseURI("xen+ssh://h/system?proxy=native&netcat=/bin/nc", dir)
	_, err := tg.remoteCommand()
	wantErr(t, "native with netcat", err, libvirt.ErrInvalidArg, virerr.FromRPC, "invalid argument: netcat path not valid with native proxy mode")
}
