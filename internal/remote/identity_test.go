package remote

import (
	"reflect"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
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

// proxiedParams are what libvirt's virtproxyd sends for a local caller:
// its virNetServerClientCreateIdentity, in that order.
var proxiedParams = []libvirt.TypedParam{
	strP("user-name", "alice"), ullP("unix-user-id", 1234), strP("group-name", "staff"), ullP("unix-group-id", 50),
	llP("process-id", 4242), ullP("process-time", 777), strP("sasl-user-name", "alice@EXAMPLE"),
	strP("x509-distinguished-name", "CN=alice"), strP("selinux-context", "system_u:system_r:virtd_t:s0"),
	strP("system.token", "0123abcd"),
}

// TestIdentityParamsRoundTrip: a forwarded identity is kept whole and
// passed on to libvirt's daemons as it came.
func TestIdentityParamsRoundTrip(t *testing.T) {
	id, err := identityFromParams(proxiedParams)
	if err != nil {
		t.Fatal(err)
	}
	want := rpc.Identity{
		UserName: rpc.Known("alice"), UnixUserID: rpc.Known(uint64(1234)),
		GroupName: rpc.Known("staff"), UnixGroupID: rpc.Known(uint64(50)),
		ProcessID: rpc.Known(int64(4242)), ProcessTime: rpc.Known(uint64(777)),
		SASLUserName: rpc.Known("alice@EXAMPLE"), X509DName: rpc.Known("CN=alice"),
		SELinuxContext: rpc.Known("system_u:system_r:virtd_t:s0"), SystemToken: rpc.Known("0123abcd"),
	}
	if id != want {
		t.Fatalf("identity %+v\nwant %+v", id, want)
	}
	if got := identityParams(id); !reflect.DeepEqual(got, proxiedParams) {
		t.Errorf("passed on as %+v", got)
	}
	// A TLS caller's identity has no Unix attributes; none are made up.
	tls := []libvirt.TypedParam{strP("x509-distinguished-name", "CN=bob")}
	id, _ = identityFromParams(tls)
	if got := identityParams(id); !reflect.DeepEqual(got, tls) {
		t.Errorf("TLS identity passed on as %+v", got)
	}
	if id, err := identityFromParams(nil); err != nil || id != (rpc.Identity{}) || identityParams(id) != nil {
		t.Errorf("empty identity: %+v %v", id, err)
	}
}

// TestIdentityParamsErrors: libvirt's errors for what
// virTypedParamsDeserialize and virIdentitySetParameters refuse (the texts
// libvirtd 9.0 answers).
func TestIdentityParamsErrors(t *testing.T) {
	long := strings.Repeat("f", 80)
	for _, c := range []struct {
		params []libvirt.TypedParam
		code   virerr.Code
		msg    string
	}{
		{[]libvirt.TypedParam{strP("zzz", "x"), strP("user-name", "a")}, libvirt.ErrArgumentUnsupported,
			"argument unsupported: parameter 'zzz' not supported"},
		{[]libvirt.TypedParam{strP("unix-user-id", "x")}, libvirt.ErrInvalidArg,
			"invalid argument: invalid type 'string' for parameter 'unix-user-id', expected 'ullong'"},
		{[]libvirt.TypedParam{ullP("process-id", 1)}, libvirt.ErrInvalidArg,
			"invalid argument: invalid type 'ullong' for parameter 'process-id', expected 'llong'"},
		{[]libvirt.TypedParam{strP("user-name", "x"), strP("user-name", "y")}, libvirt.ErrInvalidArg,
			"invalid argument: parameter 'user-name' occurs multiple times"},
		// The field's length is checked first, in the order sent.
		{[]libvirt.TypedParam{strP("zzz", "x"), strP(long, "x")}, libvirt.ErrInternalError,
			"internal error: parameter " + long + " too big for destination"},
	} {
		_, err := identityFromParams(c.params)
		w := virerr.As(err).Wire()
		if w.Code != c.code || w.Domain != virerr.FromNone || w.Message != c.msg {
			t.Errorf("%v: %+v, want %q", c.params, w, c.msg)
		}
	}
}

// TestSetIdentityArgsLimit: more than REMOTE_CONNECT_IDENTITY_PARAMS_MAX
// parameters do not decode, as libvirt's XDR refuses them.
func TestSetIdentityArgsLimit(t *testing.T) {
	many := make([]libvirt.TypedParam, 21)
	for i := range many {
		many[i] = strP("user-name", "x")
	}
	for n, ok := range map[int]bool{20: true, 21: false} {
		body, err := xdr.Marshal(&libvirt.ConnectSetIdentityArgs{Params: many[:n]})
		if err != nil {
			t.Fatal(err)
		}
		err = xdr.Unmarshal(body, &connectSetIdentityArgs{})
		if (err == nil) != ok {
			t.Errorf("%d parameters: decode error %v", n, err)
		}
	}
}
