package remote

import (
	"net/url"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// systemURI is what a probe (an empty name in CONNECT_OPEN) resolves to,
// as libxl's connectURIProbe answers.
const systemURI = "xen:///system"

// resolveURI applies libvirt's rules for a URI given to CONNECT_OPEN on
// this daemon: the xen scheme only, no host, and the path "", "/" or
// "/system".
func resolveURI(name string) (string, error) {
	if name == "" {
		return systemURI, nil
	}
	u, err := url.Parse(name)
	if err != nil || u.Scheme == "" {
		return "", virerr.New(virerr.FromNone, libvirt.ErrNoConnect, "%s", name)
	}
	if u.Scheme != "xen" || u.Host != "" {
		return "", virerr.New(virerr.FromNone, libvirt.ErrNoConnect, "%s", name)
	}
	switch u.Path {
	case "", "/", "/system":
		return name, nil
	}
	return "", virerr.New(virerr.FromLibxl, libvirt.ErrInternalError,
		"unexpected Xen URI path '%s', try xen:///system", u.Path)
}
