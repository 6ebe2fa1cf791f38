package driver

import (
	"context"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The driver uses three of libvirt's secondary drivers itself, as
// libvirt's libxl driver does through virGetConnectNetwork,
// virGetConnectStorage and virGetConnectSecret. Each interface is the part
// of that driver's public API the Xen driver calls, named as libvirt names
// it; the daemon wires in its client of libvirt's daemons
// (internal/libvirtd), so that the driver knows no wire. Errors are
// libvirt's, as those daemons report them.

// NetworkDriver gives <interface type='network'> its port, and the
// addresses its DHCP server leased (DOMAIN_INTERFACE_ADDRESSES).
type NetworkDriver interface {
	NetworkLookupByName(ctx context.Context, name string) (libvirt.Network, error)
	// NetworkConnect opens the connection to the network driver
	// (virGetConnectNetwork) without a call on it.
	NetworkConnect(ctx context.Context) error
	NetworkGetDHCPLeases(ctx context.Context, net libvirt.Network, mac string, flags uint32) ([]libvirt.NetworkDhcpLease, error)
	NetworkPortCreateXML(ctx context.Context, net libvirt.Network, xml string, flags uint32) (libvirt.NetworkPort, error)
	NetworkPortGetXMLDesc(ctx context.Context, port libvirt.NetworkPort, flags uint32) (string, error)
	NetworkPortLookupByUUID(ctx context.Context, net libvirt.Network, uuid libvirt.UUID) (libvirt.NetworkPort, error)
	NetworkPortSetParameters(ctx context.Context, port libvirt.NetworkPort, params []libvirt.TypedParam, flags uint32) error
	NetworkPortDelete(ctx context.Context, port libvirt.NetworkPort, flags uint32) error
}

// StorageDriver resolves <disk type='volume'> to the volume's path.
type StorageDriver interface {
	StoragePoolLookupByName(ctx context.Context, name string) (libvirt.StoragePool, error)
	StoragePoolIsActive(ctx context.Context, pool libvirt.StoragePool) (bool, error)
	StoragePoolGetXMLDesc(ctx context.Context, pool libvirt.StoragePool, flags uint32) (string, error)
	StorageVolLookupByName(ctx context.Context, pool libvirt.StoragePool, name string) (libvirt.StorageVol, error)
	StorageVolGetInfo(ctx context.Context, vol libvirt.StorageVol) (typ int8, capacity, allocation uint64, err error)
	StorageVolGetPath(ctx context.Context, vol libvirt.StorageVol) (string, error)
}

// SecretDriver gives the keys of authenticated network disks.
type SecretDriver interface {
	SecretLookupByUUID(ctx context.Context, uuid libvirt.UUID) (libvirt.Secret, error)
	SecretLookupByUsage(ctx context.Context, usageType int32, usageID string) (libvirt.Secret, error)
	SecretGetValue(ctx context.Context, secret libvirt.Secret, flags uint32) ([]byte, error)
}

// releaseWait bounds the calls made when nobody waits for an answer: the
// release of a stopped guest's ports, their reclaim after a restart.
const releaseWait = 30 * time.Second

// errNoDriver is virConnectOpen's error when no driver serves uri: what a
// driver built without the daemon's wiring (unit tests) reports.
func errNoDriver(uri string) error {
	return virerr.New(virerr.FromNone, libvirt.ErrNoConnect, "%s", uri)
}

func (drv *Driver) networks() (NetworkDriver, error) {
	if drv.opts.Networks == nil {
		return nil, errNoDriver("network:///system")
	}
	return drv.opts.Networks, nil
}

func (drv *Driver) storage() (StorageDriver, error) {
	if drv.opts.Storage == nil {
		return nil, errNoDriver("storage:///system")
	}
	return drv.opts.Storage, nil
}

func (drv *Driver) secrets() (SecretDriver, error) {
	if drv.opts.Secrets == nil {
		return nil, errNoDriver("secret:///system")
	}
	return drv.opts.Secrets, nil
}
