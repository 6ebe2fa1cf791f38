package remote

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/paths"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
	"virtxend/test/daemontest"
)

// forwardedIdentity is what libvirt's virtproxyd sends for a local caller
// (virNetServerClientCreateIdentity's attributes, in its order).
func forwardedIdentity(user string, uid uint64, pid int64) []libvirt.TypedParam {
	str := func(f, v string) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
	}
	ull := func(f string, v uint64) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
	}
	return []libvirt.TypedParam{
		str("user-name", user), ull("unix-user-id", uid), str("group-name", "staff"), ull("unix-group-id", 50),
		{Field: "process-id", Value: *libvirt.NewTypedParamValueLlong(pid)}, ull("process-time", 777),
		str("sasl-user-name", user+"@EXAMPLE"), str("x509-distinguished-name", "CN="+user),
		str("selinux-context", "system_u:system_r:virtd_t:s0"),
	}
}

// TestSetIdentityAsVirtproxyd: a client sends CONNECT_SET_IDENTITY as
// virtproxyd does, on the read-write and on the read-only socket, after
// other calls: virt-admin client-info shows the forwarded identity, and
// the client's storage calls reach libvirtd with it.
func TestSetIdentityAsVirtproxyd(t *testing.T) {
	d, l := beside(t)
	rw, ro := d.GoLibvirt(paths.RWSocketName), d.GoLibvirt(paths.ROSocketName)
	if _, err := rw.ConnectGetLibVersion(); err != nil {
		t.Fatal(err)
	}
	// Set twice: the second identity replaces the first whole.
	for _, id := range [][]libvirt.TypedParam{forwardedIdentity("carol", 7, 7), forwardedIdentity("alice", 1234, 4242)} {
		if err := rw.ConnectSetIdentity(id, 0); err != nil {
			t.Fatalf("set identity on the read-write socket: %v", err)
		}
	}
	if err := ro.ConnectSetIdentity(forwardedIdentity("bob", 1235, 4243), 0); err != nil {
		t.Fatalf("set identity on the read-only socket: %v", err)
	}
	want := map[string]map[string]string{
		"no":  {"unix_user_name": "alice", "unix_user_id": "1234", "unix_process_id": "4242", "sasl_user_name": "alice@EXAMPLE"},
		"yes": {"unix_user_name": "bob", "unix_user_id": "1235", "unix_process_id": "4243", "sasl_user_name": "bob@EXAMPLE"},
	}
	for _, info := range clientInfos(t, d.VirtAdmin, "virtxend") {
		checkForwarded(t, "virtxend's client-info", info, want[info["readonly"]])
	}

	for _, gl := range []*libvirt.Libvirt{rw, ro} {
		if _, _, err := gl.ConnectListAllStoragePools(1, 0); err != nil {
			t.Fatalf("pool list: %v", err)
		}
	}
	libvirtdAdmin := func(args ...string) daemontest.Result {
		uri := "libvirtd+unix:///system?socket=" + filepath.Join(l.Root, "run", "libvirt", "libvirt-admin-sock")
		return daemontest.Run(t, "virt-admin", append([]string{"-c", uri}, args...)...)
	}
	infos := clientInfos(t, libvirtdAdmin, "libvirtd")
	if len(infos) != 2 {
		t.Fatalf("libvirtd has %d clients, want virtxend's storage connections for the two clients: %v", len(infos), infos)
	}
	for _, info := range infos {
		checkForwarded(t, "libvirtd's client-info", info, want[info["readonly"]])
	}
}

func checkForwarded(t *testing.T, what string, info, want map[string]string) {
	t.Helper()
	if want == nil {
		t.Fatalf("%s: unexpected client %v", what, info)
	}
	want["unix_group_name"], want["unix_group_id"] = "staff", "50"
	want["selinux_context"] = "system_u:system_r:virtd_t:s0"
	for k, v := range want {
		if info[k] != v {
			t.Errorf("%s: %s = %q, want %q (all: %v)", what, k, info[k], v, info)
		}
	}
	if _, ok := info["tls_x509_dname"]; ok {
		t.Errorf("%s: a local client's x509 name is shown: %v", what, info)
	}
}

// clientInfos is virt-admin client-info of every client of server.
func clientInfos(t *testing.T, admin func(...string) daemontest.Result, server string) []map[string]string {
	t.Helper()
	list := admin("srv-clients-list", server)
	if list.Code != 0 {
		t.Fatalf("srv-clients-list %s: %+v", server, list)
	}
	var infos []map[string]string
	for line := range strings.Lines(list.Stdout) {
		f := strings.Fields(line)
		if len(f) != 4 || f[1] != "unix" {
			continue // header, rule
		}
		r := admin("client-info", server, f[0])
		if r.Code != 0 {
			t.Fatalf("client-info %s %s: %+v", server, f[0], r)
		}
		info := map[string]string{}
		for l := range strings.Lines(r.Stdout) {
			if k, v, ok := strings.Cut(l, ":"); ok {
				info[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		infos = append(infos, info)
	}
	return infos
}

// TestSetIdentityErrorsAsLibvirtd: the same CONNECT_SET_IDENTITY calls
// get the same answers, error for error, from virtxend and from libvirtd
// 9.0, on both sockets: before CONNECT_OPEN, with unknown, wrongly typed,
// repeated and too long parameters, too many, none, libvirt's own
// system.token, and any flags.
func TestSetIdentityErrorsAsLibvirtd(t *testing.T) {
	d, l := beside(t)
	str := func(f, v string) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
	}
	many := make([]libvirt.TypedParam, 21)
	for i := range many {
		many[i] = str("user-name", "x")
	}
	calls := []libvirt.ConnectSetIdentityArgs{
		{Params: []libvirt.TypedParam{str("zzz", "x"), str("user-name", "a")}},
		{Params: []libvirt.TypedParam{str("unix-user-id", "x")}},
		{Params: []libvirt.TypedParam{str("process-id", "x"), str("aaa", "x")}},
		{Params: []libvirt.TypedParam{str("user-name", "x"), str("user-name", "y")}},
		{Params: []libvirt.TypedParam{str(strings.Repeat("f", 80), "x")}},
		{Params: many},
		{Params: many[:20]},
		{Params: nil},
		{Params: []libvirt.TypedParam{str("system.token", "x")}},
		{Params: forwardedIdentity("alice", 1, 1), Flags: 0xff},
	}
	answers := func(sock, uri string) []string {
		c, err := rpc.Dial(context.Background(), sock, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		call := func(proc uint32, args any) string {
			body, err := xdr.Marshal(args)
			if err != nil {
				t.Fatal(err)
			}
			if _, err = c.Call(context.Background(), 0x20008086, 1, proc, body); err != nil {
				w := virerr.As(err).Wire()
				return fmt.Sprintf("code %d domain %d %q (str1 %q str2 %q int1 %d)", w.Code, w.Domain, w.Message, w.Str1, w.Str2, w.Int1)
			}
			return "ok"
		}
		out := []string{call(419, &calls[0])} // before CONNECT_OPEN
		if got := call(1, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{uri}}); got != "ok" {
			t.Fatalf("open %s on %s: %s", uri, sock, got)
		}
		for i := range calls {
			out = append(out, call(419, &calls[i]))
		}
		return out
	}
	for _, s := range []struct{ ours, theirs string }{
		{paths.RWSocketName, "libvirt-sock"}, {paths.ROSocketName, "libvirt-sock-ro"},
	} {
		ours := answers(filepath.Join(d.Paths.SocketDir(), s.ours), "xen:///system")
		theirs := answers(filepath.Join(l.Root, "run", "libvirt", s.theirs), "storage:///system")
		for i := range theirs {
			if ours[i] != theirs[i] {
				t.Errorf("%s, call %d: virtxend %q, libvirtd %q", s.ours, i, ours[i], theirs[i])
			}
		}
		if theirs[len(theirs)-1] != "ok" {
			t.Errorf("libvirtd refused a good identity on %s: %q", s.theirs, theirs)
		}
	}
}
