package admin_test

import (
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/admin"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

func TestClientsListInfoAndClose(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	other := e.dial(e.mainSock)
	// Any reply proves the server has taken the connection; here the
	// remote program is not registered, so the reply is an error.
	_ = other.CallProg(0x20008086, 1, 66, nil, nil)
	srv := admin.Server{Name: "virtxend"}
	var list admin.ListClientsRet
	must(t, c.Call(admin.ProcServerListClients, &admin.ListClientsArgs{Srv: srv, NeedResults: 1}, &list))
	if list.Ret != 1 || len(list.Clients) != 1 || list.Clients[0].Transport != admin.TransportUnix ||
		list.Clients[0].Srv.Name != "virtxend" || list.Clients[0].Timestamp == 0 {
		t.Fatalf("clients %+v", list)
	}
	id := list.Clients[0].ID

	var look admin.LookupClientRet
	must(t, c.Call(admin.ProcServerLookupClient, &admin.LookupClientArgs{Srv: srv, ID: id}, &look))
	if look.Clnt != list.Clients[0] {
		t.Errorf("lookup %+v, list %+v", look.Clnt, list.Clients[0])
	}

	var info admin.ParamsRet
	must(t, c.Call(admin.ProcClientGetInfo, &admin.ClientArgs{Clnt: look.Clnt}, &info))
	checkInfo(t, info.Params)

	must(t, c.Call(admin.ProcClientClose, &admin.ClientArgs{Clnt: look.Clnt}, nil))
	waitClosed(t, other)
	if !strings.Contains(e.logBuf.String(), "disconnecting client") {
		t.Errorf("disconnect not logged:\n%s", e.logBuf.String())
	}
}

// checkInfo expects this process's own credentials: the test is its own peer.
func checkInfo(t *testing.T, list []libvirt.TypedParam) {
	t.Helper()
	var names []string
	for _, p := range list {
		names = append(names, p.Field)
	}
	want := "readonly unix_user_id unix_user_name unix_group_id unix_group_name unix_process_id"
	// A host whose security module labels sockets adds selinux_context.
	if got := strings.TrimSuffix(strings.Join(names, " "), " selinux_context"); got != want {
		t.Errorf("info names %q, want %q", got, want)
	}
	p := params(list)
	u, _ := user.LookupId(strconv.Itoa(os.Getuid()))
	if p["readonly"] != int32(0) || p["unix_user_id"] != int32(os.Getuid()) || p["unix_group_id"] != int32(os.Getgid()) ||
		p["unix_process_id"] != int32(os.Getpid()) || u == nil || p["unix_user_name"] != u.Username {
		t.Errorf("info %v", p)
	}
}

// TestClientInfoForwardedIdentity: once a proxy has replaced a client's
// identity (CONNECT_SET_IDENTITY), client-info shows that identity and
// nothing of the socket's peer, in adminClientGetInfo's order and types;
// a local client's x509 name is not shown, as in libvirt.
func TestClientInfoForwardedIdentity(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	other := e.dial(e.mainSock)
	_ = other.CallProg(0x20008086, 1, 66, nil, nil)
	clients := e.main.Clients()
	if len(clients) != 1 {
		t.Fatalf("%d clients", len(clients))
	}
	clnt := admin.Client{Srv: admin.Server{Name: "virtxend"}, ID: clients[0].ID()}
	for _, tc := range []struct {
		name  string
		id    rpc.Identity
		names string
		want  map[string]any
	}{
		{"local caller", rpc.Identity{
			UserName: rpc.Known("alice"), UnixUserID: rpc.Known(uint64(1234)),
			GroupName: rpc.Known("staff"), UnixGroupID: rpc.Known(uint64(50)),
			ProcessID: rpc.Known(int64(4242)), ProcessTime: rpc.Known(uint64(777)),
			SASLUserName: rpc.Known("alice@EXAMPLE"), X509DName: rpc.Known("CN=alice"),
			SELinuxContext: rpc.Known("system_u:system_r:virtd_t:s0"),
		}, "readonly sasl_user_name unix_user_id unix_user_name unix_group_id unix_group_name unix_process_id selinux_context",
			map[string]any{"sasl_user_name": "alice@EXAMPLE", "unix_user_id": int32(1234), "unix_user_name": "alice",
				"unix_group_id": int32(50), "unix_group_name": "staff", "unix_process_id": int32(4242),
				"selinux_context": "system_u:system_r:virtd_t:s0"}},
		{"TLS caller", rpc.Identity{X509DName: rpc.Known("CN=bob"), SASLUserName: rpc.Known("bob")},
			"readonly sasl_user_name", map[string]any{"sasl_user_name": "bob"}},
		// libvirt casts to uid_t and pid_t, then stores an int.
		{"casts", rpc.Identity{UnixUserID: rpc.Known(uint64(1<<32 + 4294967295)), ProcessID: rpc.Known(int64(-1))},
			"readonly unix_user_id unix_process_id", map[string]any{"unix_user_id": int32(-1), "unix_process_id": int32(-1)}},
		{"nothing", rpc.Identity{}, "readonly", map[string]any{}},
	} {
		clients[0].SetIdentity(tc.id)
		var info admin.ParamsRet
		must(t, c.Call(admin.ProcClientGetInfo, &admin.ClientArgs{Clnt: clnt}, &info))
		var names []string
		for _, p := range info.Params {
			names = append(names, p.Field)
		}
		if got := strings.Join(names, " "); got != tc.names {
			t.Errorf("%s: names %q, want %q", tc.name, got, tc.names)
		}
		got := params(info.Params)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", tc.name, k, got[k], v)
			}
		}
	}
}

func TestClientErrors(t *testing.T) {
	c := newEnv(t).admin()
	srv := admin.Server{Name: "admin"}
	wantErr(t, c.Call(admin.ProcServerLookupClient, &admin.LookupClientArgs{Srv: srv, ID: 99}, &admin.LookupClientRet{}),
		libvirt.ErrNoClient, virerr.FromRPC, "Client not found: No client with matching ID '99'")
	wantErr(t, c.Call(admin.ProcClientClose, &admin.ClientArgs{Clnt: admin.Client{Srv: srv, ID: 99}}, nil),
		libvirt.ErrNoClient, virerr.FromRPC, "Client not found: No client with matching ID '99'")
	wantErr(t, c.Call(admin.ProcClientGetInfo, &admin.ClientArgs{Clnt: admin.Client{Srv: srv, ID: 99}}, &admin.ParamsRet{}),
		libvirt.ErrNoClient, virerr.FromAdmin, "Client not found: no client with matching id '99' found")
	wantErr(t, c.Call(admin.ProcClientGetInfo, &admin.ClientArgs{Clnt: admin.Client{Srv: admin.Server{Name: "q"}, ID: 1}}, &admin.ParamsRet{}),
		libvirt.ErrNoServer, virerr.FromAdmin, "Server not found: no server with matching name 'q' found")
	wantErr(t, c.Call(admin.ProcServerListClients, &admin.ListClientsArgs{Srv: admin.Server{Name: "q"}}, &admin.ListClientsRet{}),
		libvirt.ErrNoServer, virerr.FromRPC, "Server not found: No server named 'q'")
	// The admin client itself is client 1 of the admin server.
	wantErr(t, c.Call(admin.ProcClientGetInfo, &admin.ClientArgs{Clnt: admin.Client{Srv: srv, ID: 1}, Flags: 1}, &admin.ParamsRet{}),
		libvirt.ErrInvalidArg, virerr.FromAdmin, "unsupported flags (0x1) in function adminClientGetInfo")
}
