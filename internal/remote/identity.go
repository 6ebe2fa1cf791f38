package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
)

// The attributes of an identity as typed parameters: VIR_CONNECT_IDENTITY_*
// of libvirt-host.h, and viridentity.c's own "system.token".
const (
	identUserName       = "user-name"
	identUnixUserID     = "unix-user-id"
	identGroupName      = "group-name"
	identUnixGroupID    = "unix-group-id"
	identProcessID      = "process-id"
	identProcessTime    = "process-time"
	identSASLUserName   = "sasl-user-name"
	identX509DName      = "x509-distinguished-name"
	identSELinuxContext = "selinux-context"
	identSystemToken    = "system.token"
)

// identityTypes are the parameters virIdentitySetParameters accepts, with
// their types.
var identityTypes = map[string]typedparam.Type{
	identUserName: typedparam.String, identUnixUserID: typedparam.ULLong,
	identGroupName: typedparam.String, identUnixGroupID: typedparam.ULLong,
	identProcessID: typedparam.LLong, identProcessTime: typedparam.ULLong,
	identSASLUserName: typedparam.String, identX509DName: typedparam.String,
	identSELinuxContext: typedparam.String, identSystemToken: typedparam.String,
}

// connectSetIdentityArgs is remote_connect_set_identity_args with its
// limit, REMOTE_CONNECT_IDENTITY_PARAMS_MAX: a longer list does not decode
// ("Unable to decode message payload"), as libvirt's XDR refuses it.
type connectSetIdentityArgs struct {
	Params []libvirt.TypedParam `xdr:"max=20"`
	Flags  uint32
}

func (p *program) identityProcs() []*rpc.Procedure {
	spec := rpc.Spec[connectSetIdentityArgs, rpc.Void]{Proc: procConnectSetIdentity.Proc}
	return []*rpc.Procedure{rpc.Handle(spec, p.connectSetIdentity)}
}

// connectSetIdentity is remoteDispatchConnectSetIdentity: a proxy that
// passes its own clients on (libvirt's virtproxyd) says who the real
// caller is, and that identity replaces the client's whole, for what the
// daemon shows of the client (virt-admin client-info) and passes on to
// libvirt's daemons. Like libvirt it is taken at any time after
// CONNECT_OPEN, again and again, and from read-only clients: libvirt's
// dispatcher asks only the access driver (virConnectSetIdentityEnsureACL,
// which "none" passes), not the public API's read-only check, and
// remote_protocol.x gives it no read-only rule. The flags are not looked
// at, as libvirt does not look at them.
func (p *program) connectSetIdentity(ctx context.Context, c *rpc.Client, a *connectSetIdentityArgs) (*rpc.Void, error) {
	id, err := identityFromParams(a.Params)
	if err != nil {
		return nil, err
	}
	c.SetIdentity(id)
	p.log.DebugContext(ctx, "received forwarded identity", "client", c.ID(), "params", len(a.Params))
	return nil, nil
}

// identityFromParams is virTypedParamsDeserialize then
// virIdentitySetParameters: the checks, with libvirt's errors, then the
// identity the parameters describe and nothing else.
func identityFromParams(params []libvirt.TypedParam) (rpc.Identity, error) {
	var id rpc.Identity
	if err := typedparam.CheckFields(params); err != nil {
		return id, err
	}
	if err := typedparam.Validate(params, identityTypes); err != nil {
		return id, err
	}
	for _, prm := range params {
		switch v := prm.Value.I; prm.Field {
		case identUserName:
			id.UserName = rpc.Known(v.(string))
		case identUnixUserID:
			id.UnixUserID = rpc.Known(v.(uint64))
		case identGroupName:
			id.GroupName = rpc.Known(v.(string))
		case identUnixGroupID:
			id.UnixGroupID = rpc.Known(v.(uint64))
		case identProcessID:
			id.ProcessID = rpc.Known(v.(int64))
		case identProcessTime:
			id.ProcessTime = rpc.Known(v.(uint64))
		case identSASLUserName:
			id.SASLUserName = rpc.Known(v.(string))
		case identX509DName:
			id.X509DName = rpc.Known(v.(string))
		case identSELinuxContext:
			id.SELinuxContext = rpc.Known(v.(string))
		case identSystemToken:
			id.SystemToken = rpc.Known(v.(string))
		}
	}
	return id, nil
}

// identityParams is an identity as virIdentityGetParameters lists it for
// CONNECT_SET_IDENTITY to libvirt's daemons: what it knows, in the order
// virNetServerClientCreateIdentity adds the attributes (the order
// virtproxyd forwards them in).
func identityParams(id rpc.Identity) []libvirt.TypedParam {
	var out []libvirt.TypedParam
	str := func(f string, a rpc.Attr[string]) {
		if a.Set {
			out = append(out, libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(a.Value)})
		}
	}
	ull := func(f string, a rpc.Attr[uint64]) {
		if a.Set {
			out = append(out, libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(a.Value)})
		}
	}
	str(identUserName, id.UserName)
	ull(identUnixUserID, id.UnixUserID)
	str(identGroupName, id.GroupName)
	ull(identUnixGroupID, id.UnixGroupID)
	if id.ProcessID.Set {
		out = append(out, libvirt.TypedParam{Field: identProcessID, Value: *libvirt.NewTypedParamValueLlong(id.ProcessID.Value)})
	}
	ull(identProcessTime, id.ProcessTime)
	str(identSASLUserName, id.SASLUserName)
	str(identX509DName, id.X509DName)
	str(identSELinuxContext, id.SELinuxContext)
	str(identSystemToken, id.SystemToken)
	return out
}
