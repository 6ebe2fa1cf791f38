// Package hostname is libvirt's virGetHostname: the name a daemon gives
// its host, to clients (virConnectGetHostname) and to other hosts (the
// migration cookie). It differs from gethostname in one way: a short
// name is made fully qualified through the resolver, as getaddrinfo's
// canonical name, so that another host can reach it.
package hostname

import (
	"context"
	"net"
	"os"
	"strings"
	"time"

	"virtxend/internal/virerr"
)

// lookupLimit bounds the resolver's answer, which libvirt leaves to the
// resolver's own timeouts: a host without DNS must still answer soon.
const lookupLimit = 5 * time.Second

// Resolver is what Get asks for a canonical name; net.DefaultResolver's
// LookupCNAME reads /etc/hosts first, as getaddrinfo does.
type Resolver interface {
	LookupCNAME(ctx context.Context, host string) (string, error)
}

// Get is virGetHostname: gethostname's answer, kept as it is when it
// starts with "localhost" or has a dot, else its canonical name when the
// resolver gives one that is not localhost. Its error is libvirt's.
func Get(ctx context.Context) (string, error) {
	return get(ctx, os.Hostname, net.DefaultResolver)
}

func get(ctx context.Context, gethostname func() (string, error), r Resolver) (string, error) {
	h, err := gethostname()
	if err != nil {
		return "", virerr.System(virerr.FromNone, err, "failed to determine host name")
	}
	if strings.HasPrefix(h, "localhost") || strings.Contains(h, ".") {
		return h, nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupLimit)
	defer cancel()
	c, err := r.LookupCNAME(ctx, h)
	// libvirt logs a failed lookup and keeps the short name.
	c = strings.TrimSuffix(c, ".")
	if err != nil || c == "" || strings.HasPrefix(c, "localhost") {
		return h, nil
	}
	return c, nil
}
