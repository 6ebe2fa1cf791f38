package remote

import (
	"context"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/libvirtd"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// The secondary drivers (storage, network, node devices, secrets, nwfilter,
// host interfaces) are not this daemon's: as libvirt's virtxend does, it
// passes their calls on to libvirt's own daemon for each driver, over one
// connection per client and driver, opened on first use with the URI
// libvirt's remoteDispatchConnectOpen gives a system hypervisor driver's
// clients, read-only when the client is, and closed with the client.

// secondaryURIs are the URIs libvirt's daemon opens for the secondary
// drivers of a root hypervisor daemon.
var secondaryURIs = [...]string{
	driverInterface: "interface:///system",
	driverNetwork:   "network:///system",
	driverNodeDev:   "nodedev:///system",
	driverNWFilter:  "nwfilter:///system",
	driverSecret:    "secret:///system",
	driverStorage:   "storage:///system",
}

// secondaries are one client's connections to libvirt's daemons.
type secondaries struct {
	mu    sync.Mutex
	conns map[libvirtDriver]*rpc.Conn
}

// daemonSocket is the socket of libvirt's daemon for drv, found as
// libvirt's client finds it (libvirtd.SocketPath); dir is the run
// directory's libvirt/, ro picks the -ro sockets.
func daemonSocket(dir string, drv libvirtDriver, ro bool) string {
	return libvirtd.SocketPath(dir, drv.String(), ro)
}

// secondary returns the client's connection to the daemon of drv, opening
// it on first use and again after it ended.
func (p *program) secondary(ctx context.Context, c *rpc.Client, drv libvirtDriver) (*rpc.Conn, error) {
	cn := connOf(c)
	if !cn.isOpen() {
		return nil, errSecondaryNotOpen()
	}
	sec := &cn.secondaries
	sec.mu.Lock()
	defer sec.mu.Unlock()
	if up := sec.conns[drv]; up != nil {
		select {
		case <-up.Done():
		default:
			return up, nil
		}
	}
	up, err := p.openSecondary(ctx, c, drv)
	if err != nil {
		return nil, err
	}
	if sec.conns == nil {
		sec.conns = map[libvirtDriver]*rpc.Conn{}
		c.OnClose(sec.closeAll)
	}
	sec.conns[drv] = up
	return up, nil
}

func (sec *secondaries) closeAll() {
	sec.mu.Lock()
	defer sec.mu.Unlock()
	for _, up := range sec.conns {
		up.Close()
	}
	sec.conns = nil
}

// openSecondary connects to the daemon of drv and opens its driver with
// the client's identity (remoteOpenConn with preserveIdentity).
func (p *program) openSecondary(ctx context.Context, c *rpc.Client, drv libvirtDriver) (*rpc.Conn, error) {
	ro := c.ReadOnly()
	path := daemonSocket(p.socketDir, drv, ro)
	up, err := rpc.Dial(ctx, path, p.log, func(h rpc.Header, body []byte) {
		// The daemon's events go to the client as they came: the callback
		// ids in them are the ones that daemon gave the client.
		c.SendMessage(h.Prog, h.Vers, h.Proc, h.Serial, rpc.RawBody(body))
	})
	if err != nil {
		return nil, errConnectSocket(path, err)
	}
	flags := libvirt.ConnectFlags(0)
	if ro {
		flags = libvirt.ConnectRo
	}
	steps := []struct {
		proc uint32
		args any
	}{
		{procConnectOpen.Proc.Number, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{secondaryURIs[drv]}, Flags: flags}},
		{procConnectSetIdentity.Proc.Number, &libvirt.ConnectSetIdentityArgs{Params: identityParams(c.Identity())}},
	}
	for _, s := range steps {
		body, err := xdr.Marshal(s.args)
		if err == nil {
			_, err = up.Call(ctx, ProgramNumber, ProgramVersion, s.proc, body)
		}
		if err != nil {
			up.Close()
			return nil, err
		}
	}
	return up, nil
}

// identityParams is a client's identity as libvirt's virIdentityGetParameters
// lists it for CONNECT_SET_IDENTITY: what the daemon knows of its peer.
func identityParams(id rpc.Identity) []libvirt.TypedParam {
	if id.UID < 0 {
		return nil
	}
	str := func(f, v string) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
	}
	ull := func(f string, v uint64) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
	}
	var out []libvirt.TypedParam
	if u, err := user.LookupId(strconv.Itoa(id.UID)); err == nil {
		out = append(out, str("user-name", u.Username))
	}
	out = append(out, ull("unix-user-id", uint64(id.UID)))
	if g, err := user.LookupGroupId(strconv.Itoa(id.GID)); err == nil {
		out = append(out, str("group-name", g.Name))
	}
	out = append(out, ull("unix-group-id", uint64(id.GID)))
	if id.PID > 0 {
		out = append(out, libvirt.TypedParam{Field: "process-id", Value: *libvirt.NewTypedParamValueLlong(int64(id.PID))})
		if t, ok := processStartTime(id.PID); ok {
			out = append(out, ull("process-time", t))
		}
	}
	return out
}

// processStartTime is a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), as libvirt's virProcessGetStartTime reads it.
func processStartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from its end.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	return t, err == nil
}

// errSecondaryNotOpen is remoteOpenConn's error for a secondary driver's
// call before CONNECT_OPEN: the daemon has no URI for it yet.
func errSecondaryNotOpen() error {
	return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "connection not open")
}

// errConnectSocket is virNetSocketNewConnectUNIX's system error.
func errConnectSocket(path string, err error) error {
	return libvirtd.ConnectError(path, err)
}
