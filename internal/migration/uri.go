package migration

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Endpoint is where a migration's data goes: the host and port of the
// destination's listener (port 0: one of the range, to be chosen).
type Endpoint struct {
	Host string
	Port int
}

// URI is the endpoint as the destination reports it (uri_out), its host
// escaped as virURIFormat escapes it: the host was read unescaped, and a
// '%' in it must not read back as the start of an escape.
func (e Endpoint) URI() string {
	u := url.URL{Scheme: "tcp", Host: net.JoinHostPort(e.Host, strconv.Itoa(e.Port))}
	return u.String()
}

// ParseIncoming reads the URI a destination is given in Prepare
// (libxlDomainMigrationDstPrepare): "tcp://HOST[:PORT]", or the same
// without "tcp://". A missing port is left 0.
func ParseIncoming(uri string) (Endpoint, error) {
	full := uri
	if !strings.HasPrefix(uri, "tcp://") {
		full = "tcp://" + uri
	}
	e, err := parse(full)
	if err != nil {
		return Endpoint{}, virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg, "unable to parse URI: %s", uri)
	}
	if e.Host == "" {
		return Endpoint{}, virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg, "missing host in migration URI: %s", uri)
	}
	return e, nil
}

// ParseOutgoing reads the URI the source sends the data to
// (libxlDomainMigrationSrcPerform): it needs a host and a port. libvirt
// fails such a URI without saying why; the error here does.
func ParseOutgoing(uri string) (Endpoint, error) {
	e, err := parse(uri)
	if err != nil || e.Host == "" || e.Port == 0 {
		return Endpoint{}, virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg,
			"migration URI '%s' needs a host and a port", uri)
	}
	return e, nil
}

// parse is virURIParse's reading of server and port.
func parse(uri string) (Endpoint, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{Host: u.Hostname()}
	// Only an IPv6 address, in brackets, holds a colon.
	if strings.Contains(e.Host, ":") && net.ParseIP(e.Host) == nil {
		return Endpoint{}, strconv.ErrSyntax
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n > 65535 {
			return Endpoint{}, strconv.ErrRange
		}
		e.Port = n
	}
	return e, nil
}
