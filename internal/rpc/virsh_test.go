package rpc

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// virshProgram is the handshake libvirt's C client performs, plus what
// "virsh version" asks.
func virshProgram() *Program {
	void := func(ctx context.Context, c *Client, _ *Void) (*Void, error) { return nil, nil }
	return NewProgram(remoteProg, 1,
		Proc(66, "AUTH_LIST", "", High|NoAuth, func(ctx context.Context, c *Client, _ *Void) (*libvirt.AuthListRet, error) {
			return &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, nil
		}),
		Proc(60, "CONNECT_SUPPORTS_FEATURE", "", High, func(ctx context.Context, c *Client, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
			if a.Feature == 10 {
				c.StartKeepalive()
			}
			return &libvirt.ConnectSupportsFeatureRet{Supported: 1}, nil
		}),
		Proc(1, "CONNECT_OPEN", "", High, func(ctx context.Context, c *Client, a *libvirt.ConnectOpenArgs) (*Void, error) { return nil, nil }),
		Proc(2, "CONNECT_CLOSE", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Void, error) {
			c.DelayedClose()
			return nil, nil
		}),
		Proc(3, "CONNECT_GET_TYPE", "", High, func(ctx context.Context, c *Client, _ *Void) (*libvirt.ConnectGetTypeRet, error) {
			return &libvirt.ConnectGetTypeRet{Type: "Xen"}, nil
		}),
		Proc(4, "CONNECT_GET_VERSION", "", High, func(ctx context.Context, c *Client, _ *Void) (*libvirt.ConnectGetVersionRet, error) {
			return &libvirt.ConnectGetVersionRet{HvVer: 4017000}, nil
		}),
		Proc(360, "CONNECT_REGISTER_CLOSE_CALLBACK", "", High, void),
		Proc(361, "CONNECT_UNREGISTER_CLOSE_CALLBACK", "", High, void),
	)
}

// TestVirshHandshake runs the real virsh (libvirt's C client) against the
// server when it is installed.
func TestVirshHandshake(t *testing.T) {
	virsh, err := exec.LookPath("virsh")
	if err != nil {
		t.Skip("virsh not installed")
	}
	srv := &Server{Name: "virsh", KeepaliveInterval: 5 * time.Second, KeepaliveCount: 5}
	srv.Register(virshProgram())
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, virsh, "-c", "xen+unix:///system?socket="+path, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("virsh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Running hypervisor: Xen 4.17.0") {
		t.Fatalf("virsh version said:\n%s", out)
	}
}
