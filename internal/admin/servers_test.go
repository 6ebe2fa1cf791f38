package admin_test

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/admin"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

func TestThreadPoolGetAndSet(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	var ret admin.ParamsRet
	must(t, c.Call(admin.ProcServerGetThreadPoolParams, &admin.ServerArgs{Srv: admin.Server{Name: "virtxend"}}, &ret))
	var names []string
	for _, p := range ret.Params {
		names = append(names, p.Field)
	}
	if got := strings.Join(names, " "); got != "minWorkers maxWorkers nWorkers freeWorkers prioWorkers jobQueueDepth" {
		t.Errorf("names %q", got)
	}
	if p := params(ret.Params); p["minWorkers"] != uint32(2) || p["maxWorkers"] != uint32(8) || p["prioWorkers"] != uint32(1) {
		t.Errorf("params %v", p)
	}
	must(t, c.Call(admin.ProcServerSetThreadPoolParams, &admin.SetThreadPoolArgs{Srv: admin.Server{Name: "virtxend"},
		Params: []libvirt.TypedParam{uintP("maxWorkers", 12), uintP("minWorkers", 4), uintP("prioWorkers", 3)}}, nil))
	tp := e.main.ThreadPool()
	if tp.MinWorkers != 4 || tp.MaxWorkers != 12 || tp.PrioWorkers != 3 || tp.NWorkers < 4 {
		t.Errorf("pool after set: %+v", tp)
	}
	log := e.logBuf.String()
	if !strings.Contains(log, "thread pool changed") || !strings.Contains(log, "client_uid=") || !strings.Contains(log, "client_pid=") {
		t.Errorf("change not logged with the client:\n%s", log)
	}
}

func TestThreadPoolSetErrors(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	set := func(srv string, flags uint32, p ...libvirt.TypedParam) error {
		return c.Call(admin.ProcServerSetThreadPoolParams, &admin.SetThreadPoolArgs{Srv: admin.Server{Name: srv}, Params: p, Flags: flags}, nil)
	}
	wantErr(t, set("nope", 0), libvirt.ErrNoServer, virerr.FromAdmin, "Server not found: no server with matching name 'nope' found")
	wantErr(t, set("admin", 2), libvirt.ErrInvalidArg, virerr.FromAdmin,
		"unsupported flags (0x2) in function adminServerSetThreadPoolParameters")
	wantErr(t, set("admin", 0, uintP("minWorkers", 9)), libvirt.ErrInvalidArg, virerr.FromNone,
		"invalid argument: minWorkers cannot be larger than maxWorkers")
	wantErr(t, set("admin", 0, uintP("maxWorkers", 0), uintP("minWorkers", 0)), libvirt.ErrInvalidArg, virerr.FromNone,
		"invalid argument: maxWorkers must not be switched from zero to non-zero and vice versa")
	wantErr(t, set("admin", 0, uintP("nWorkers", 3)), libvirt.ErrArgumentUnsupported, virerr.FromNone,
		"argument unsupported: parameter 'nWorkers' not supported")
	wantErr(t, set("admin", 0, uintP("minWorkers", 1), uintP("minWorkers", 2)), libvirt.ErrInvalidArg, virerr.FromNone,
		"invalid argument: parameter 'minWorkers' occurs multiple times")
	wantErr(t, set("admin", 0, libvirt.TypedParam{Field: "maxWorkers", Value: *libvirt.NewTypedParamValueUllong(3)}),
		libvirt.ErrInvalidArg, virerr.FromNone, "invalid argument: invalid type 'ullong' for parameter 'maxWorkers', expected 'uint'")
	// Sorted by name, "aaa" comes first and is the one reported.
	wantErr(t, set("admin", 0, libvirt.TypedParam{Field: "maxWorkers", Value: *libvirt.NewTypedParamValueInt(3)}, uintP("aaa", 1)),
		libvirt.ErrArgumentUnsupported, virerr.FromNone, "argument unsupported: parameter 'aaa' not supported")
	if tp := e.adm.ThreadPool(); tp.MinWorkers != 1 || tp.MaxWorkers != 5 {
		t.Errorf("a refused change was applied: %+v", tp)
	}
}

func TestThreadPoolGetUnknownServer(t *testing.T) {
	c := newEnv(t).admin()
	wantErr(t, c.Call(admin.ProcServerGetThreadPoolParams, &admin.ServerArgs{Srv: admin.Server{Name: "x"}}, &admin.ParamsRet{}),
		libvirt.ErrNoServer, virerr.FromRPC, "Server not found: No server named 'x'")
}

func TestClientLimitsGetAndSet(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	srv := admin.Server{Name: "admin"}
	var ret admin.ParamsRet
	must(t, c.Call(admin.ProcServerGetClientLimits, &admin.ServerArgs{Srv: srv}, &ret))
	p := params(ret.Params)
	if p["nclients_max"] != uint32(rpc.DefaultMaxClients) || p["nclients"] != uint32(1) ||
		p["nclients_unauth_max"] != uint32(20) || p["nclients_unauth"] != uint32(0) || len(ret.Params) != 4 {
		t.Errorf("limits %v", p)
	}
	must(t, c.Call(admin.ProcServerSetClientLimits, &admin.SetClientLimitsArgs{Srv: srv,
		Params: []libvirt.TypedParam{uintP("nclients_max", 30), uintP("nclients_unauth_max", 10)}}, nil))
	if l := e.adm.ClientLimits(); l.MaxClients != 30 || l.MaxAnonymousClients != 10 {
		t.Errorf("limits after set: %+v", l)
	}
	wantErr(t, c.Call(admin.ProcServerSetClientLimits, &admin.SetClientLimitsArgs{Srv: srv,
		Params: []libvirt.TypedParam{uintP("nclients_max", 5)}}, nil), libvirt.ErrInvalidArg, virerr.FromRPC,
		"invalid argument: The overall maximum number of clients must not be less than the number of clients waiting for authentication")
	wantErr(t, c.Call(admin.ProcServerSetClientLimits, &admin.SetClientLimitsArgs{Srv: admin.Server{Name: "y"}}, nil),
		libvirt.ErrNoServer, virerr.FromAdmin, "Server not found: no server with matching name 'y' found")
	wantErr(t, c.Call(admin.ProcServerSetClientLimits, &admin.SetClientLimitsArgs{Srv: srv,
		Params: []libvirt.TypedParam{uintP("nclients", 5)}}, nil), libvirt.ErrArgumentUnsupported, virerr.FromNone,
		"argument unsupported: parameter 'nclients' not supported")
	if !strings.Contains(e.logBuf.String(), "client limits changed") {
		t.Errorf("change not logged:\n%s", e.logBuf.String())
	}
}

func TestUpdateTLSFiles(t *testing.T) {
	c := newEnv(t).admin()
	wantErr(t, c.Call(admin.ProcServerUpdateTLSFiles, &admin.ServerArgs{Srv: admin.Server{Name: "virtxend"}}, nil),
		libvirt.ErrInternalError, virerr.FromRPC, "internal error: no tls service found, unable to update tls files")
	wantErr(t, c.Call(admin.ProcServerUpdateTLSFiles, &admin.ServerArgs{Srv: admin.Server{Name: "z"}}, nil),
		libvirt.ErrNoServer, virerr.FromRPC, "Server not found: No server named 'z'")
}
