package peer

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

const dir = "/r/run/libvirt"

func TestParseURI(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want target
	}{
		{"xen:///system", target{transport: "unix", host: "localhost", socket: dir + "/virtxend-sock", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+unix:///system?socket=/x/sock", target{transport: "unix", host: "localhost", socket: "/x/sock", proxy: "netcat", name: "xen:///system", helperName: "xen:///system?socket=%2Fx%2Fsock"}},
		// The scheme comes lower-cased (net/url), the names of parameters as given.
		{"XEN+UNIX:///system?Socket=/x/sock&foo=a%20b", target{transport: "unix", host: "localhost", socket: "/x/sock", proxy: "netcat", name: "xen:///system?foo=a%20b", helperName: "xen:///system?Socket=%2Fx%2Fsock&foo=a%20b"}},
		{"qemu:///system", target{transport: "unix", host: "localhost", socket: dir + "/virtqemud-sock", proxy: "auto", name: "qemu:///system", helperName: "qemu:///system"}},
		{"xen+tcp://h2/system", target{transport: "tcp", host: "h2", port: "16509", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+tcp://[::1]:1234/system", target{transport: "tcp", host: "::1", port: "1234", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+tcp:///system", target{transport: "tcp", host: "localhost", port: "16509", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen://h2/system", target{transport: "tls", host: "h2", port: "16514", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+ssh://root@h2/system", target{transport: "ssh", host: "h2", user: "root", socket: remoteSocket, proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+ssh://h2:2222/system?socket=/s&mode=legacy&x=it's%20ok&y=a/b#frag", target{transport: "ssh", host: "h2", port: "2222", socket: "/s", proxy: "netcat",
			name: "xen:///system?x=it%27s%20ok&y=a%2Fb#frag", helperName: "xen:///system?socket=%2Fs&mode=legacy&x=it%27s%20ok&y=a%2Fb#frag"}},
		{"xen+ssh://h2/system?keyfile=/k&no_verify=1&no_tty=0&netcat=/bin/nc&command=/bin/myssh&proxy=native", target{transport: "ssh", host: "h2", socket: remoteSocket,
			keyfile: "/k", noVerify: true, netcat: "/bin/nc", command: "/bin/myssh", proxy: "native", name: "xen:///system", helperName: "xen:///system"}},
		{"xen+ssh://h2/system?name=xen:///other", target{transport: "ssh", host: "h2", socket: remoteSocket, proxy: "auto", name: "xen:///other"}},
		{"remote+tcp://h2/", target{transport: "tcp", host: "h2", port: "16509", proxy: "auto"}},
		{"xen+ext:///system?command=/bin/cat", target{transport: "ext", host: "localhost", command: "/bin/cat", proxy: "auto", name: "xen:///system", helperName: "xen:///system"}},
		// virURIParseParams: parts end at the next '&', at ';' only when
		// no '&' follows.
		{"xen+tcp://h/system?a=1&b=2;c=3&d", target{transport: "tcp", host: "h", port: "16509", proxy: "auto", name: "xen:///system?a=1&b=2%3Bc%3D3&d=", helperName: "xen:///system?a=1&b=2%3Bc%3D3&d="}},
		{"xen+tcp://h/system?a=1&b=2;c=3", target{transport: "tcp", host: "h", port: "16509", proxy: "auto", name: "xen:///system?a=1&b=2&c=3", helperName: "xen:///system?a=1&b=2&c=3"}},
		{"xen+tcp://h/system?=x&&a=1", target{transport: "tcp", host: "h", port: "16509", proxy: "auto", name: "xen:///system?a=1", helperName: "xen:///system?a=1"}},
	} {
		got, err := parseURI(c.uri, dir)
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		if *got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.uri, *got, c.want)
		}
	}
}

// TestParseURIErrors: libvirt's words (virsh 9.0 checked for each it
// reports from outside a daemon).
func TestParseURIErrors(t *testing.T) {
	for _, c := range []struct {
		uri    string
		code   libvirt.ErrorNumber
		domain virerr.Domain
		msg    string
	}{
		{"xen+foo:///system", libvirt.ErrInvalidArg, virerr.FromRemote,
			"invalid argument: remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)"},
		{"xen+unix://h/system", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: using unix socket and remote server 'h' is not supported."},
		{"xen+ext:///system", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: remote_open: for 'ext' transport, command is required"},
		{"xen+unix:///system?mode=bogus", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: Unknown remote mode 'bogus'"},
		{"xen+unix:///system?proxy=bogus", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: Unnkown proxy type 'bogus'"},
		{"xen+unix:///system?no_tty=x", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: Failed to parse value of URI component no_tty"},
		{"xen+ssh://h/system?mode=direct", libvirt.ErrOperationUnsupported, virerr.FromRemote, "Operation not supported: Cannot use direct socket mode for ssh transport"},
		// Inside a daemon only.
		{"xen:///system?mode=legacy", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: Connections from inside daemon must be direct"},
		{"xen+ssh:///system", libvirt.ErrOperationUnsupported, virerr.FromRemote, "Operation not supported: Cannot use direct socket mode for ssh transport"},
		{"/system", libvirt.ErrInvalidArg, virerr.FromRemote, "invalid argument: missing scheme for URI"},
		{"xen+tcp://h:port/system", libvirt.ErrInternalError, virerr.FromURI, "internal error: Unable to parse URI xen+tcp://h:port/system"},
	} {
		_, err := parseURI(c.uri, dir)
		w := virerr.As(err).Wire()
		if err == nil || w.Code != c.code || w.Domain != c.domain || w.Message != c.msg {
			t.Errorf("%s: %+v", c.uri, w)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"xen:///system", "xen+ssh://u@h:22/system?socket=/s&mode=legacy#f", "xen+tcp://[::1]/system?a=1;b&c", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		tg, err := parseURI(uri, dir)
		if err != nil {
			if virerr.As(err).Wire().Message == "" {
				t.Fatalf("error without a message: %#v", err)
			}
			return
		}
		if tg.transport == "" || tg.host == "" {
			t.Fatalf("%q: %+v", uri, tg)
		}
	})
}
