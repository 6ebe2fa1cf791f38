package admin

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// checkFlags is virCheckFlags: fn is the libvirt function whose name the
// message carries.
func checkFlags(flags, supported uint32, fn string) error {
	if flags&^supported != 0 {
		return virerr.UnsupportedFlags(virerr.FromAdmin, flags&^supported, fn)
	}
	return nil
}

// lookupServer is virNetDaemonGetServer, with its VIR_FROM_RPC error.
func (p *program) lookupServer(name string) (*rpc.Server, error) {
	if s := p.servers[name]; s != nil {
		return s, nil
	}
	return nil, virerr.New(virerr.FromRPC, libvirt.ErrNoServer, "No server named '%s'", name)
}

// lookupServerAdmin is the lookup of the hand-written dispatchers, whose
// own VIR_FROM_ADMIN error replaces virNetDaemonGetServer's.
func (p *program) lookupServerAdmin(name string) (*rpc.Server, error) {
	if s := p.servers[name]; s != nil {
		return s, nil
	}
	return nil, virerr.New(virerr.FromAdmin, libvirt.ErrNoServer, "no server with matching name '%s' found", name)
}

// lookupClient is virNetServerGetClient, with its VIR_FROM_RPC error.
func lookupClient(s *rpc.Server, id uint64) (*rpc.Client, error) {
	if c := s.Client(id); c != nil {
		return c, nil
	}
	return nil, virerr.New(virerr.FromRPC, libvirt.ErrNoClient, "No client with matching ID '%d'", id)
}

// lookupClientAdmin is CLIENT_GET_INFO's lookup, whose VIR_FROM_ADMIN error
// replaces virNetServerGetClient's.
func lookupClientAdmin(s *rpc.Server, id uint64) (*rpc.Client, error) {
	if c := s.Client(id); c != nil {
		return c, nil
	}
	return nil, virerr.New(virerr.FromAdmin, libvirt.ErrNoClient, "no client with matching id '%d' found", id)
}
