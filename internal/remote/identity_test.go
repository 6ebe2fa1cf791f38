package remote

import (
	"reflect"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

func strP(f, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
}

func ullP(f string, v uint64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
}

func llP(f string, v int64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueLlong(v)}
}

// TestIdentityParams: an identity goes to libvirt's daemons as
// virIdentityGetParameters lists it, in virNetServerClientCreateIdentity's
// order, with what it knows and nothing made up.
func TestIdentityParams(t *testing.T) {
	id := rpc.Identity{
		UserName: rpc.Known("alice"), UnixUserID: rpc.Known(uint64(1234)),
		GroupName: rpc.Known("staff"), UnixGroupID: rpc.Known(uint64(50)),
		ProcessID: rpc.Known(int64(4242)), ProcessTime: rpc.Known(uint64(777)),
		SELinuxContext: rpc.Known("system_u:system_r:virtd_t:s0"),
	}
	want := []libvirt.TypedParam{
		strP("user-name", "alice"), ullP("unix-user-id", 1234), strP("group-name", "staff"), ullP("unix-group-id", 50),
		llP("process-id", 4242), ullP("process-time", 777), strP("selinux-context", "system_u:system_r:virtd_t:s0"),
	}
	if got := identityParams(id); !reflect.DeepEqual(got, want) {
		t.Errorf("params %+v", got)
	}
	if got := identityParams(rpc.Identity{}); got != nil {
		t.Errorf("unknown identity: %+v", got)
	}
}
