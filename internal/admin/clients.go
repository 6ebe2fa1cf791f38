package admin

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// Client-info parameter names (VIR_CLIENT_INFO_*).
const (
	infoReadonly     = "readonly"
	infoSASLUserName = "sasl_user_name"
	infoUserID       = "unix_user_id"
	infoUserName     = "unix_user_name"
	infoGroupID      = "unix_group_id"
	infoGroupName    = "unix_group_name"
	infoProcessID    = "unix_process_id"
	infoSELinux      = "selinux_context"
)

func (p *program) clientProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Proc(ProcServerListClients, "SERVER_LIST_CLIENTS", "virAdmServerListClients", 0, p.listClients),
		rpc.Proc(ProcServerLookupClient, "SERVER_LOOKUP_CLIENT", "virAdmServerLookupClient", 0, p.lookupClientProc),
		rpc.Proc(ProcClientGetInfo, "CLIENT_GET_INFO", "virAdmClientGetInfo", 0, p.clientInfo),
		rpc.Proc(ProcClientClose, "CLIENT_CLOSE", "virAdmClientClose", 0, p.clientClose),
	}
}

// wireClient is make_nonnull_client. Every listener here is a Unix socket.
func wireClient(s *rpc.Server, c *rpc.Client) Client {
	return Client{Srv: Server{Name: s.Name}, ID: c.ID(), Timestamp: c.ConnectTime().Unix(), Transport: TransportUnix}
}

func (p *program) listClients(_ context.Context, _ *rpc.Client, a *ListClientsArgs) (*ListClientsRet, error) {
	s, err := p.lookupServer(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerListClients"); err != nil {
		return nil, err
	}
	clients := s.Clients()
	if len(clients) > clientListMax {
		return nil, virerr.New(virerr.FromAdmin, libvirt.ErrInternalError,
			"Too many clients '%d' for limit '%d'", len(clients), clientListMax)
	}
	ret := &ListClientsRet{Ret: uint32(len(clients))}
	if a.NeedResults != 0 {
		for _, c := range clients {
			ret.Clients = append(ret.Clients, wireClient(s, c))
		}
	}
	return ret, nil
}

func (p *program) lookupClientProc(_ context.Context, _ *rpc.Client, a *LookupClientArgs) (*LookupClientRet, error) {
	s, err := p.lookupServer(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	c, err := lookupClient(s, a.ID)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerLookupClient"); err != nil {
		return nil, err
	}
	return &LookupClientRet{Clnt: wireClient(s, c)}, nil
}

// clientInfo is adminClientGetInfo for a local client: the read-only flag
// and the peer's credentials with the names they resolve to.
func (p *program) clientInfo(_ context.Context, _ *rpc.Client, a *ClientArgs) (*ParamsRet, error) {
	s, err := p.lookupServerAdmin(a.Clnt.Srv.Name)
	if err != nil {
		return nil, err
	}
	c, err := lookupClientAdmin(s, a.Clnt.ID)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminClientGetInfo"); err != nil {
		return nil, err
	}
	return &ParamsRet{Params: clientInfoParams(c.ReadOnly(), c.Identity())}, nil
}

// clientInfoParams is adminClientGetInfo's list for a local client, in
// its order: what the client's identity knows, which is its peer's or the
// one a proxy forwarded. libvirt shows no x509 name for a local client,
// and ids as ints (uid_t, gid_t and pid_t cast as libvirt casts them).
func clientInfoParams(readOnly bool, id rpc.Identity) []libvirt.TypedParam {
	params := []libvirt.TypedParam{boolParam(infoReadonly, readOnly)}
	add := func(p libvirt.TypedParam, known bool) {
		if known {
			params = append(params, p)
		}
	}
	add(stringParam(infoSASLUserName, id.SASLUserName.Value), id.SASLUserName.Set)
	add(intParam(infoUserID, int(int32(uint32(id.UnixUserID.Value)))), id.UnixUserID.Set)
	add(stringParam(infoUserName, id.UserName.Value), id.UserName.Set)
	add(intParam(infoGroupID, int(int32(uint32(id.UnixGroupID.Value)))), id.UnixGroupID.Set)
	add(stringParam(infoGroupName, id.GroupName.Value), id.GroupName.Set)
	add(intParam(infoProcessID, int(int32(id.ProcessID.Value))), id.ProcessID.Set)
	add(stringParam(infoSELinux, id.SELinuxContext.Value), id.SELinuxContext.Set)
	return params
}

// clientClose disconnects a client at once, as virNetServerClientClose
// does; calls it has in flight finish but their replies are dropped.
func (p *program) clientClose(ctx context.Context, c *rpc.Client, a *ClientArgs) (*rpc.Void, error) {
	s, err := p.lookupServer(a.Clnt.Srv.Name)
	if err != nil {
		return nil, err
	}
	target, err := lookupClient(s, a.Clnt.ID)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminClientClose"); err != nil {
		return nil, err
	}
	uid, pid := logIDs(target.Identity())
	p.logChange(ctx, c, "disconnecting client", "server", s.Name,
		"target_id", target.ID(), "target_uid", uid, "target_pid", pid)
	target.Close()
	return nil, nil
}
