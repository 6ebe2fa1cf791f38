package remote

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
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
