package peer

import (
	"cmp"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// target is where a libvirt URI leads, as libvirt's remote driver reads
// it (remoteSplitURIScheme, doRemoteOpenExtractURIArgs, doRemoteOpen) for
// a connection opened inside a daemon.
type target struct {
	transport        string // unix, tcp, ssh, ext, tls, libssh2 or libssh
	host, port, user string // the port only when the URI or the transport gives one
	// socket is the Unix socket: the local one to connect to (unix), or
	// the remote one nc connects to at the other end (ssh).
	socket  string
	command string // ssh's binary (ssh), the command to run (ext)
	netcat  string
	keyfile string
	proxy   string // auto, netcat or native: what ssh runs on the remote host
	// noVerify, noTTY are no_verify=1 and no_tty=1.
	noVerify, noTTY bool
	// name is the URI CONNECT_OPEN opens on the server: the driver's part
	// ("xen:///system"), with the query parameters meant for it.
	name string
	// helperName is name as virt-ssh-helper gets it, mode and socket
	// kept.
	helperName string
}

// Default ports (LIBVIRTD_TCP_PORT, LIBVIRTD_TLS_PORT) and the socket
// libvirt's client names on a remote host (mode legacy, as root).
const (
	tcpPort      = "16509"
	tlsPort      = "16514"
	remoteSocket = "/run/libvirt/libvirt-sock"
)

// transports are remoteDriverTransport's names.
var transports = map[string]bool{"tls": true, "unix": true, "ssh": true, "libssh2": true, "ext": true, "tcp": true, "libssh": true}

// param is one query parameter, in the URI's order; ours are taken out
// of what is passed on to the server.
type param struct {
	name, value string
	ours        bool
}

// parseURI reads uri; dir is the local socket directory (/run/libvirt).
func parseURI(uri, dir string) (*target, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, virerr.New(virerr.FromURI, libvirt.ErrInternalError, "Unable to parse URI %s", uri)
	}
	if u.Scheme == "" {
		return nil, virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "missing scheme for URI")
	}
	t := &target{host: u.Hostname(), port: u.Port()}
	if u.User != nil {
		t.user = u.User.Username()
	}
	drv, transport, err := splitScheme(u.Scheme, t.host)
	if err != nil {
		return nil, err
	}
	t.transport = transport
	params := queryParams(u.RawQuery)
	mode, name, err := t.extract(params)
	if err != nil {
		return nil, err
	}
	t.name = name
	if name == "" && drv != "remote" {
		t.name = formatName(u, drv, params, nil)
		t.helperName = formatName(u, drv, params, map[string]bool{"mode": true, "socket": true})
	}
	if err := t.settle(mode, drv, dir); err != nil {
		return nil, err
	}
	return t, nil
}

// splitScheme is remoteSplitURIScheme: "xen+ssh" is the driver xen over
// ssh; with no transport, a host means TLS and none a Unix socket.
func splitScheme(scheme, host string) (drv, transport string, err error) {
	drv, transport, ok := strings.Cut(scheme, "+")
	if !ok {
		if host != "" {
			return drv, "tls", nil
		}
		return drv, "unix", nil
	}
	transport = strings.ToLower(transport)
	if !transports[transport] {
		return "", "", virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg,
			"remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)")
	}
	if transport == "unix" && host != "" {
		return "", "", virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg,
			"using unix socket and remote server '%s' is not supported.", host)
	}
	return drv, transport, nil
}

// queryParams is virURIParseParams: name=value pairs split at '&' (at ';'
// if there is no '&'), "name" alone an empty value, "=value" dropped.
func queryParams(query string) []*param {
	var out []*param
	for query != "" {
		end := strings.IndexByte(query, '&')
		if end < 0 {
			end = strings.IndexByte(query, ';')
		}
		if end < 0 {
			end = len(query)
		}
		name, value, _ := strings.Cut(query[:end], "=")
		if name != "" {
			out = append(out, &param{name: unescape(name), value: unescape(value)})
		}
		query = query[min(end+1, len(query)):]
	}
	return out
}

// unescape is xmlURIUnescapeString: %XX only, '+' stays.
func unescape(s string) string {
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	return s
}

// extract is doRemoteOpenExtractURIArgs: it takes the parameters meant
// for libvirt's client out of params and returns the mode and the name
// parameter.
func (t *target) extract(params []*param) (mode, name string, err error) {
	strs := map[string]*string{
		"name": &name, "command": &t.command, "socket": &t.socket, "netcat": &t.netcat,
		"keyfile": &t.keyfile, "mode": &mode, "proxy": &t.proxy,
		// Read by libvirt's client for schemes this one does not have
		// (SASL, libssh, TLS): taken out of the name all the same.
		"auth": nil, "sshauth": nil, "pkipath": nil, "known_hosts": nil,
		"known_hosts_verify": nil, "tls_priority": nil, "authfile": nil,
	}
	bools := map[string]*bool{"no_verify": &t.noVerify, "no_tty": &t.noTTY, "no_sanity": nil}
	for _, p := range params {
		key := strings.ToLower(p.name)
		if dst, ok := strs[key]; ok {
			p.ours = true
			if dst != nil {
				*dst = p.value
			}
			continue
		}
		if dst, ok := bools[key]; ok {
			p.ours = true
			n, err := strconv.Atoi(p.value)
			if err != nil {
				return "", "", virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "Failed to parse value of URI component %s", p.name)
			}
			if dst != nil {
				*dst = n != 0
			}
		}
	}
	return mode, name, nil
}

// formatName is remoteConnectFormatURI: the driver's scheme, the path,
// the parameters not taken (but those in keep) and the fragment; no
// host, user or port.
func formatName(u *url.URL, drv string, params []*param, keep map[string]bool) string {
	var b strings.Builder
	b.WriteString(drv + "://" + u.EscapedPath())
	sep := "?"
	for _, p := range params {
		if p.ours && !keep[strings.ToLower(p.name)] {
			continue
		}
		b.WriteString(sep + p.name + "=" + escape(p.value))
		sep = "&"
	}
	if u.Fragment != "" {
		b.WriteString("#" + u.EscapedFragment())
	}
	return b.String()
}

// escape is g_string_append_uri_escaped with no reserved characters
// allowed: all but letters, digits and "-._~" as %XX.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// settle is the rest of doRemoteOpen's choices before it connects: the
// mode (a local connection from inside a daemon must be direct), the
// proxy, the default port and socket.
func (t *target) settle(mode, drv, dir string) error {
	switch mode {
	case "":
		mode = "auto"
		if t.host == "" {
			mode = "direct"
		}
	case "auto", "legacy", "direct":
	default:
		return virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "Unknown remote mode '%s'", mode)
	}
	switch t.proxy {
	case "":
		t.proxy = "auto"
		if t.socket != "" {
			t.proxy = "netcat"
		}
	case "auto", "netcat", "native":
	default:
		// "Unnkown": libvirt's own spelling.
		return virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "Unnkown proxy type '%s'", t.proxy)
	}
	if t.host == "" && mode != "direct" {
		return virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "Connections from inside daemon must be direct")
	}
	if t.transport == "ext" && t.command == "" {
		return virerr.New(virerr.FromRemote, libvirt.ErrInvalidArg, "remote_open: for 'ext' transport, command is required")
	}
	t.host = cmp.Or(t.host, "localhost")
	switch t.transport {
	case "tcp":
		t.port = cmp.Or(t.port, tcpPort)
	case "tls":
		t.port = cmp.Or(t.port, tlsPort)
	case "unix", "ssh", "libssh2", "libssh":
		if t.socket == "" {
			return t.defaultSocket(mode, drv, dir)
		}
	}
	return nil
}

// defaultSocket is remoteGetUNIXSocket for a daemon running as root. A
// local connection is direct: the socket of the driver's own daemon in
// dir (virtxend-sock for xen). A remote host is assumed to have
// libvirtd's socket (mode legacy), for nc; its virt-ssh-helper finds the
// right one there itself.
func (t *target) defaultSocket(mode, drv, dir string) error {
	if t.transport == "unix" {
		t.socket = dir + "/virt" + drv + "d-sock"
		return nil
	}
	if mode == "direct" {
		return virerr.New(virerr.FromRemote, libvirt.ErrOperationUnsupported, "Cannot use direct socket mode for %s transport", t.transport)
	}
	t.socket = remoteSocket
	return nil
}
