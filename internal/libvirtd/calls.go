package libvirtd

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
)

// The calls the Xen driver makes, each one procedure of libvirt's remote
// program, named as libvirt's public API names them.

// NetworkLookupByName is virNetworkLookupByName.
func (c *Client) NetworkLookupByName(ctx context.Context, name string) (libvirt.Network, error) {
	var r libvirt.NetworkLookupByNameRet
	err := c.call(ctx, Network, procNetworkLookupByName, &libvirt.NetworkLookupByNameArgs{Name: name}, &r)
	return r.Net, err
}

// NetworkConnect is virGetConnectNetwork: the connection to the network
// driver, opened if it is not.
func (c *Client) NetworkConnect(ctx context.Context) error {
	_, err := c.conn(ctx, Network)
	return err
}

// NetworkGetDHCPLeases is virNetworkGetDHCPLeases: the leases of the
// network's DHCP server, for the MAC address mac only unless it is "".
func (c *Client) NetworkGetDHCPLeases(ctx context.Context, net libvirt.Network, mac string, flags uint32) ([]libvirt.NetworkDhcpLease, error) {
	a := &libvirt.NetworkGetDhcpLeasesArgs{Net: net, NeedResults: 1, Flags: flags}
	if mac != "" {
		a.Mac = libvirt.OptString{mac}
	}
	var r libvirt.NetworkGetDhcpLeasesRet
	err := c.call(ctx, Network, procNetworkGetDHCPLeases, a, &r)
	return r.Leases, err
}

// NetworkPortCreateXML is virNetworkPortCreateXML.
func (c *Client) NetworkPortCreateXML(ctx context.Context, net libvirt.Network, xml string, flags uint32) (libvirt.NetworkPort, error) {
	var r libvirt.NetworkPortCreateXMLRet
	err := c.call(ctx, Network, procNetworkPortCreateXML, &libvirt.NetworkPortCreateXMLArgs{OptNetwork: net, XML: xml, Flags: flags}, &r)
	return r.Port, err
}

// NetworkPortGetXMLDesc is virNetworkPortGetXMLDesc.
func (c *Client) NetworkPortGetXMLDesc(ctx context.Context, port libvirt.NetworkPort, flags uint32) (string, error) {
	var r libvirt.NetworkPortGetXMLDescRet
	err := c.call(ctx, Network, procNetworkPortGetXMLDesc, &libvirt.NetworkPortGetXMLDescArgs{Port: port, Flags: flags}, &r)
	return r.XML, err
}

// NetworkPortLookupByUUID is virNetworkPortLookupByUUID.
func (c *Client) NetworkPortLookupByUUID(ctx context.Context, net libvirt.Network, uuid libvirt.UUID) (libvirt.NetworkPort, error) {
	var r libvirt.NetworkPortLookupByUUIDRet
	err := c.call(ctx, Network, procNetworkPortLookupByUUID, &libvirt.NetworkPortLookupByUUIDArgs{OptNetwork: net, UUID: uuid}, &r)
	return r.Port, err
}

// NetworkPortSetParameters is virNetworkPortSetParameters.
func (c *Client) NetworkPortSetParameters(ctx context.Context, port libvirt.NetworkPort, params []libvirt.TypedParam, flags uint32) error {
	return c.call(ctx, Network, procNetworkPortSetParams, &libvirt.NetworkPortSetParametersArgs{Port: port, Params: params, Flags: flags}, nil)
}

// NetworkPortDelete is virNetworkPortDelete.
func (c *Client) NetworkPortDelete(ctx context.Context, port libvirt.NetworkPort, flags uint32) error {
	return c.call(ctx, Network, procNetworkPortDelete, &libvirt.NetworkPortDeleteArgs{Port: port, Flags: flags}, nil)
}

// StoragePoolLookupByName is virStoragePoolLookupByName.
func (c *Client) StoragePoolLookupByName(ctx context.Context, name string) (libvirt.StoragePool, error) {
	var r libvirt.StoragePoolLookupByNameRet
	err := c.call(ctx, Storage, procStoragePoolLookupByName, &libvirt.StoragePoolLookupByNameArgs{Name: name}, &r)
	return r.Pool, err
}

// StoragePoolIsActive is virStoragePoolIsActive.
func (c *Client) StoragePoolIsActive(ctx context.Context, pool libvirt.StoragePool) (bool, error) {
	var r libvirt.StoragePoolIsActiveRet
	err := c.call(ctx, Storage, procStoragePoolIsActive, &libvirt.StoragePoolIsActiveArgs{Pool: pool}, &r)
	return r.Active == 1, err
}

// StoragePoolGetXMLDesc is virStoragePoolGetXMLDesc.
func (c *Client) StoragePoolGetXMLDesc(ctx context.Context, pool libvirt.StoragePool, flags uint32) (string, error) {
	var r libvirt.StoragePoolGetXMLDescRet
	err := c.call(ctx, Storage, procStoragePoolGetXMLDesc, &libvirt.StoragePoolGetXMLDescArgs{Pool: pool, Flags: libvirt.StorageXMLFlags(flags)}, &r)
	return r.XML, err
}

// StorageVolLookupByName is virStorageVolLookupByName.
func (c *Client) StorageVolLookupByName(ctx context.Context, pool libvirt.StoragePool, name string) (libvirt.StorageVol, error) {
	var r libvirt.StorageVolLookupByNameRet
	err := c.call(ctx, Storage, procStorageVolLookupByName, &libvirt.StorageVolLookupByNameArgs{Pool: pool, Name: name}, &r)
	return r.Vol, err
}

// StorageVolGetInfo is virStorageVolGetInfo: the volume's type
// (virStorageVolType), capacity and allocation in bytes.
func (c *Client) StorageVolGetInfo(ctx context.Context, vol libvirt.StorageVol) (typ int8, capacity, allocation uint64, err error) {
	var r libvirt.StorageVolGetInfoRet
	err = c.call(ctx, Storage, procStorageVolGetInfo, &libvirt.StorageVolGetInfoArgs{Vol: vol}, &r)
	return r.Type, r.Capacity, r.Allocation, err
}

// StorageVolGetPath is virStorageVolGetPath.
func (c *Client) StorageVolGetPath(ctx context.Context, vol libvirt.StorageVol) (string, error) {
	var r libvirt.StorageVolGetPathRet
	err := c.call(ctx, Storage, procStorageVolGetPath, &libvirt.StorageVolGetPathArgs{Vol: vol}, &r)
	return r.Name, err
}

// SecretLookupByUUID is virSecretLookupByUUID.
func (c *Client) SecretLookupByUUID(ctx context.Context, uuid libvirt.UUID) (libvirt.Secret, error) {
	var r libvirt.SecretLookupByUUIDRet
	err := c.call(ctx, Secret, procSecretLookupByUUID, &libvirt.SecretLookupByUUIDArgs{UUID: uuid}, &r)
	return r.OptSecret, err
}

// SecretLookupByUsage is virSecretLookupByUsage.
func (c *Client) SecretLookupByUsage(ctx context.Context, usageType int32, usageID string) (libvirt.Secret, error) {
	var r libvirt.SecretLookupByUsageRet
	err := c.call(ctx, Secret, procSecretLookupByUsage, &libvirt.SecretLookupByUsageArgs{UsageType: usageType, UsageID: usageID}, &r)
	return r.OptSecret, err
}

// SecretGetValue is virSecretGetValue.
func (c *Client) SecretGetValue(ctx context.Context, secret libvirt.Secret, flags uint32) ([]byte, error) {
	var r libvirt.SecretGetValueRet
	err := c.call(ctx, Secret, procSecretGetValue, &libvirt.SecretGetValueArgs{OptSecret: secret, Flags: flags}, &r)
	return r.Value, err
}

// NodeDeviceGetXMLDesc is virNodeDeviceGetXMLDesc of the device named name
// (the remote protocol names node devices by name alone).
func (c *Client) NodeDeviceGetXMLDesc(ctx context.Context, name string, flags uint32) (string, error) {
	var r libvirt.NodeDeviceGetXMLDescRet
	err := c.call(ctx, NodeDev, procNodeDeviceGetXMLDesc, &libvirt.NodeDeviceGetXMLDescArgs{Name: name, Flags: flags}, &r)
	return r.XML, err
}
