package remoteclient

// The remote program and the procedures every client connection makes,
// with libvirt's numbers (checked against tools/genprocs' record of
// libvirt's source).
const (
	Program = 0x20008086
	Version = 1

	ProcConnectOpen            = 1
	ProcConnectClose           = 2
	ProcConnectSupportsFeature = 60
	ProcAuthList               = 66
	ProcConnectSetIdentity     = 419
)

// procNames are the procedures' names in remote_protocol.x, for the test.
var procNames = map[uint32]string{
	ProcConnectOpen:            "CONNECT_OPEN",
	ProcConnectClose:           "CONNECT_CLOSE",
	ProcConnectSupportsFeature: "CONNECT_SUPPORTS_FEATURE",
	ProcAuthList:               "AUTH_LIST",
	ProcConnectSetIdentity:     "CONNECT_SET_IDENTITY",
}
