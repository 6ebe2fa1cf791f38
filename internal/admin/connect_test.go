package admin_test

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/admin"
	"virtxend/internal/buildinfo"
	"virtxend/internal/virerr"
)

func TestOpenRejectsFlagsAndCloseHangsUp(t *testing.T) {
	e := newEnv(t)
	c := e.dial(e.adminSock)
	wantErr(t, c.Call(admin.ProcConnectOpen, &admin.FlagsArgs{Flags: 4}, nil), libvirt.ErrInvalidArg, virerr.FromAdmin,
		"unsupported flags (0x4) in function adminDispatchConnectOpen")
	must(t, c.Call(admin.ProcConnectOpen, &admin.FlagsArgs{}, nil))
	must(t, c.Call(admin.ProcConnectClose, nil, nil))
	waitClosed(t, c)
}

func TestLibVersion(t *testing.T) {
	var ret admin.LibVersionRet
	must(t, newEnv(t).admin().Call(admin.ProcConnectGetLibVersion, nil, &ret))
	if ret.LibVer != buildinfo.LibVersion {
		t.Errorf("libVer %d, want %d", ret.LibVer, buildinfo.LibVersion)
	}
}

func TestListServers(t *testing.T) {
	c := newEnv(t).admin()
	var ret admin.ListServersRet
	must(t, c.Call(admin.ProcConnectListServers, &admin.ListServersArgs{NeedResults: 1}, &ret))
	if ret.Ret != 2 || len(ret.Servers) != 2 || ret.Servers[0].Name != "admin" || ret.Servers[1].Name != "virtxend" {
		t.Errorf("servers %+v", ret)
	}
	ret = admin.ListServersRet{}
	must(t, c.Call(admin.ProcConnectListServers, &admin.ListServersArgs{}, &ret))
	if ret.Ret != 2 || len(ret.Servers) != 0 {
		t.Errorf("count only: %+v", ret)
	}
	wantErr(t, c.Call(admin.ProcConnectListServers, &admin.ListServersArgs{Flags: 1}, &ret), libvirt.ErrInvalidArg, virerr.FromAdmin,
		"unsupported flags (0x1) in function adminConnectListServers")
}

func TestLookupServer(t *testing.T) {
	c := newEnv(t).admin()
	var ret admin.LookupServerRet
	must(t, c.Call(admin.ProcConnectLookupServer, &admin.LookupServerArgs{Name: "virtxend", Flags: 7}, &ret))
	if ret.Srv.Name != "virtxend" {
		t.Errorf("got %+v", ret)
	}
	wantErr(t, c.Call(admin.ProcConnectLookupServer, &admin.LookupServerArgs{Name: "libvirtd"}, &ret),
		libvirt.ErrNoServer, virerr.FromRPC, "Server not found: No server named 'libvirtd'")
}
