package rpc

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestServeAfterClose: a listener handed to a server already closed is
// closed too, so a client waiting in its backlog is not left hanging: a
// test that closed its server before the serving goroutine ran waited
// forever for its client to see the end.
func TestServeAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := &Server{Name: "closed"}
	srv.Close()
	if err := srv.Serve(ln); err != ErrServerClosed {
		t.Fatalf("serve after close: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the client in the backlog was left hanging")
	}
}
