package admin

import libvirt "github.com/digitalocean/go-libvirt"

// The admin protocol's XDR structs (src/admin/admin_protocol.x), which
// go-libvirt does not generate. Field order is the wire order. Strings
// need no max= tag: ADMIN_STRING_MAX is the decoder's default.

// Limits of admin_protocol.x.
const (
	serverListMax           = 16384 // ADMIN_SERVER_LIST_MAX
	clientListMax           = 16384 // ADMIN_CLIENT_LIST_MAX
	threadpoolParametersMax = 32    // ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX
	clientInfoParametersMax = 64    // ADMIN_CLIENT_INFO_PARAMETERS_MAX
	clientLimitsMax         = 32    // ADMIN_SERVER_CLIENT_LIMITS_MAX
)

// Server is admin_nonnull_server.
type Server struct {
	Name string
}

// Client is admin_nonnull_client.
type Client struct {
	Srv       Server
	ID        uint64
	Timestamp int64  // connect time, seconds since the epoch
	Transport uint32 // TransportUnix, TransportTCP or TransportTLS
}

// Transports of admin_nonnull_client (virClientTransport).
const (
	TransportUnix = 0
	TransportTCP  = 1
	TransportTLS  = 2
)

// FlagsArgs is every args struct that holds only flags:
// admin_connect_open_args, admin_connect_get_logging_{outputs,filters}_args
// and admin_connect_daemon_shutdown_args.
type FlagsArgs struct {
	Flags uint32
}

// LibVersionRet is admin_connect_get_lib_version_ret.
type LibVersionRet struct {
	LibVer uint64
}

// ListServersArgs is admin_connect_list_servers_args.
type ListServersArgs struct {
	NeedResults uint32
	Flags       uint32
}

// ListServersRet is admin_connect_list_servers_ret.
type ListServersRet struct {
	Servers []Server `xdr:"max=16384"`
	Ret     uint32
}

// LookupServerArgs is admin_connect_lookup_server_args.
type LookupServerArgs struct {
	Name  string
	Flags uint32
}

// LookupServerRet is admin_connect_lookup_server_ret.
type LookupServerRet struct {
	Srv Server
}

// ServerArgs is every args struct of a server and flags:
// admin_server_get_threadpool_parameters_args,
// admin_server_get_client_limits_args, admin_server_update_tls_files_args.
type ServerArgs struct {
	Srv   Server
	Flags uint32
}

// ParamsRet is every ret struct that is a typed-parameter list:
// admin_server_get_threadpool_parameters_ret, admin_client_get_info_ret,
// admin_server_get_client_limits_ret.
type ParamsRet struct {
	Params []libvirt.TypedParam `xdr:"max=64"`
}

// SetThreadPoolArgs is admin_server_set_threadpool_parameters_args.
type SetThreadPoolArgs struct {
	Srv    Server
	Params []libvirt.TypedParam `xdr:"max=32"`
	Flags  uint32
}

// SetClientLimitsArgs is admin_server_set_client_limits_args.
type SetClientLimitsArgs struct {
	Srv    Server
	Params []libvirt.TypedParam `xdr:"max=32"`
	Flags  uint32
}

// ListClientsArgs is admin_server_list_clients_args.
type ListClientsArgs struct {
	Srv         Server
	NeedResults uint32
	Flags       uint32
}

// ListClientsRet is admin_server_list_clients_ret.
type ListClientsRet struct {
	Clients []Client `xdr:"max=16384"`
	Ret     uint32
}

// LookupClientArgs is admin_server_lookup_client_args.
type LookupClientArgs struct {
	Srv   Server
	ID    uint64
	Flags uint32
}

// LookupClientRet is admin_server_lookup_client_ret.
type LookupClientRet struct {
	Clnt Client
}

// ClientArgs is admin_client_get_info_args and admin_client_close_args.
type ClientArgs struct {
	Clnt  Client
	Flags uint32
}

// LoggingOutputsRet is admin_connect_get_logging_outputs_ret.
type LoggingOutputsRet struct {
	Outputs  string
	NOutputs uint32
}

// LoggingFiltersRet is admin_connect_get_logging_filters_ret: Filters is
// NULL when there are none.
type LoggingFiltersRet struct {
	Filters  *string
	NFilters uint32
}

// SetLoggingArgs is admin_connect_set_logging_{outputs,filters}_args; a
// NULL value restores the default.
type SetLoggingArgs struct {
	Value *string
	Flags uint32
}

// SetDaemonTimeoutArgs is admin_connect_set_daemon_timeout_args.
type SetDaemonTimeoutArgs struct {
	Timeout uint32 // seconds; 0 disables
	Flags   uint32
}
