package virerr

import libvirt "github.com/digitalocean/go-libvirt"

// messages maps a code to libvirt's text without and with detail
// (virErrorMsg). Codes absent here fall back to the detail alone.
var messages = map[Code][2]string{
	libvirt.ErrInternalError:        {"internal error", "internal error: %s"},
	libvirt.ErrNoSupport:            {"this function is not supported by the connection driver", "this function is not supported by the connection driver: %s"},
	libvirt.ErrNoConnect:            {"no connection driver available", "no connection driver available for %s"},
	libvirt.ErrInvalidConn:          {"invalid connection pointer in", "invalid connection pointer in %s"},
	libvirt.ErrInvalidDomain:        {"invalid domain pointer in", "invalid domain pointer in %s"},
	libvirt.ErrInvalidArg:           {"invalid argument", "invalid argument: %s"},
	libvirt.ErrOperationFailed:      {"operation failed", "operation failed: %s"},
	libvirt.ErrXMLError:             {"XML description is invalid or not well formed", "XML error: %s"},
	libvirt.ErrDomExist:             {"this domain exists already", "domain %s exists already"},
	libvirt.ErrOperationDenied:      {"operation forbidden for read only access", "operation forbidden: %s"},
	libvirt.ErrConfSyntax:           {"configuration file syntax error", "configuration file syntax error: %s"},
	libvirt.ErrRPC:                  {"RPC error", "%s"},
	libvirt.ErrNoDomain:             {"Domain not found", "Domain not found: %s"},
	libvirt.ErrNoNetwork:            {"Network not found", "Network not found: %s"},
	libvirt.ErrNoNetworkPort:        {"network port not found", "network port not found: %s"},
	libvirt.ErrNoStoragePool:        {"Storage pool not found", "Storage pool not found: %s"},
	libvirt.ErrNoStorageVol:         {"Storage volume not found", "Storage volume not found: %s"},
	libvirt.ErrNoSecret:             {"Secret not found", "Secret not found: %s"},
	libvirt.ErrOperationInvalid:     {"Requested operation is not valid", "Requested operation is not valid: %s"},
	libvirt.ErrOperationAborted:     {"operation aborted", "operation aborted: %s"},
	libvirt.ErrConfigUnsupported:    {"unsupported configuration", "unsupported configuration: %s"},
	libvirt.ErrOperationTimeout:     {"Timed out during operation", "Timed out during operation: %s"},
	libvirt.ErrAuthFailed:           {"authentication failed", "authentication failed: %s"},
	libvirt.ErrSystemError:          {"system call error", "%s"},
	libvirt.ErrArgumentUnsupported:  {"argument unsupported", "argument unsupported: %s"},
	libvirt.ErrNoName:               {"missing name information", "missing name information in %s"},
	libvirt.ErrNoSource:             {"missing source information for device", "missing source information for device %s"},
	libvirt.ErrNoTarget:             {"missing target information for device", "missing target information for device %s"},
	libvirt.ErrXMLDetail:            {"parser error", "%s"},
	libvirt.ErrOverflow:             {"numerical overflow", "numerical overflow: %s"},
	libvirt.ErrBlockCopyActive:      {"block copy still active", "block copy still active: %s"},
	libvirt.ErrNoDomainMetadata:     {"metadata not found", "metadata not found: %s"},
	libvirt.ErrNoServer:             {"Server not found", "Server not found: %s"},
	libvirt.ErrNoClient:             {"Client not found", "Client not found: %s"},
	libvirt.ErrOperationUnsupported: {"Operation not supported", "Operation not supported: %s"},
	libvirt.ErrCPUIncompatible:      {"the CPU is incompatible with host CPU", "the CPU is incompatible with host CPU: %s"},
	libvirt.ErrXMLInvalidSchema:     {"XML document failed to validate against schema", "XML document failed to validate against schema: %s"},
	libvirt.ErrDeviceMissing:        {"device not found", "device not found: %s"},

	// snapshots
	libvirt.ErrInvalidDomainSnapshot: {"Invalid domain snapshot", "Invalid domain snapshot: %s"},
	libvirt.ErrHookScriptFailed:      {"Hook script execution failed", "Hook script execution failed: %s"},
	libvirt.ErrNoDomainSnapshot:      {"Domain snapshot not found", "Domain snapshot not found: %s"},
	libvirt.ErrSnapshotRevertRisky:   {"revert requires force", "revert requires force: %s"},
}

func messageFor(code Code) (plain, withInfo string) {
	if m, ok := messages[code]; ok {
		return m[0], m[1]
	}
	return "", "%s"
}
