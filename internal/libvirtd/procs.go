package libvirtd

import "virtxend/internal/remoteclient"

// The remote program and the procedures this client calls, with libvirt's
// numbers (remote_protocol.x; procs_test.go checks them against
// tools/genprocs' record of libvirt's source).
const (
	program = remoteclient.Program
	version = remoteclient.Version

	procConnectOpen             = remoteclient.ProcConnectOpen
	procNetworkLookupByName     = 46
	procAuthList                = remoteclient.ProcAuthList
	procStoragePoolLookupByName = 84
	procStoragePoolGetXMLDesc   = 88
	procStorageVolLookupByName  = 95
	procStorageVolGetInfo       = 98
	procStorageVolGetPath       = 100
	procSecretLookupByUUID      = 141
	procSecretGetValue          = 145
	procSecretLookupByUsage     = 147
	procNodeDeviceGetXMLDesc    = 114
	procStoragePoolIsActive     = 154
	procNetworkGetDHCPLeases    = 341
	procNetworkPortLookupByUUID = 405
	procNetworkPortCreateXML    = 406
	procNetworkPortSetParams    = 408
	procNetworkPortGetXMLDesc   = 409
	procNetworkPortDelete       = 410
	procConnectSetIdentity      = remoteclient.ProcConnectSetIdentity
)

// procNames are the procedures' names in remote_protocol.x, for the test.
var procNames = map[uint32]string{
	procConnectOpen:             "CONNECT_OPEN",
	procNetworkLookupByName:     "NETWORK_LOOKUP_BY_NAME",
	procAuthList:                "AUTH_LIST",
	procStoragePoolLookupByName: "STORAGE_POOL_LOOKUP_BY_NAME",
	procStoragePoolGetXMLDesc:   "STORAGE_POOL_GET_XML_DESC",
	procStorageVolLookupByName:  "STORAGE_VOL_LOOKUP_BY_NAME",
	procStorageVolGetInfo:       "STORAGE_VOL_GET_INFO",
	procNodeDeviceGetXMLDesc:    "NODE_DEVICE_GET_XML_DESC",
	procStorageVolGetPath:       "STORAGE_VOL_GET_PATH",
	procSecretLookupByUUID:      "SECRET_LOOKUP_BY_UUID",
	procSecretGetValue:          "SECRET_GET_VALUE",
	procSecretLookupByUsage:     "SECRET_LOOKUP_BY_USAGE",
	procStoragePoolIsActive:     "STORAGE_POOL_IS_ACTIVE",
	procNetworkGetDHCPLeases:    "NETWORK_GET_DHCP_LEASES",
	procNetworkPortLookupByUUID: "NETWORK_PORT_LOOKUP_BY_UUID",
	procNetworkPortCreateXML:    "NETWORK_PORT_CREATE_XML",
	procNetworkPortSetParams:    "NETWORK_PORT_SET_PARAMETERS",
	procNetworkPortGetXMLDesc:   "NETWORK_PORT_GET_XML_DESC",
	procNetworkPortDelete:       "NETWORK_PORT_DELETE",
	procConnectSetIdentity:      "CONNECT_SET_IDENTITY",
}

// authNone is REMOTE_AUTH_NONE: no authentication step is needed.
const authNone = remoteclient.AuthNone
