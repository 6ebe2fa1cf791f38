package libxl

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestCanary: the canary reports the end of xenstored's side once, and
// nothing when we close it; with no socket there is no canary.
func TestCanary(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "socket")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dead := make(chan struct{}, 2)
	k := openCanary(sock, func() { dead <- struct{}{} })
	if k == nil {
		t.Fatal("no canary on a listening socket")
	}
	srv, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // xenstored exits
	select {
	case <-dead:
	case <-time.After(5 * time.Second):
		t.Fatal("the canary did not see xenstored's end")
	}
	k2 := openCanary(sock, func() { dead <- struct{}{} })
	k2.Close()
	select {
	case <-dead:
		t.Fatal("a closed canary reported xenstored's end")
	case <-time.After(100 * time.Millisecond):
	}
	if openCanary(filepath.Join(t.TempDir(), "none"), func() {}) != nil {
		t.Fatal("a canary without a socket")
	}
	var nilCanary *xsCanary
	nilCanary.Close()
}
