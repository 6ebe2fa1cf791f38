package extract

// The facts libvirt's source states only in code that cannot be read
// mechanically. Each cites where libvirt does it.

// beforeOpen are the procedures libvirt's daemon serves before
// CONNECT_OPEN. Every generated dispatcher starts with
// remoteGetHypervisorConn (or the getter of its secondary driver), which
// fails with "hypervisor connection not open" until CONNECT_OPEN set
// priv->conn; these hand-written dispatchers in
// src/remote/remote_daemon_dispatch.c do not call it:
var beforeOpen = map[string]bool{
	"AUTH_LIST":       true, // remoteDispatchAuthList
	"AUTH_SASL_INIT":  true, // remoteDispatchAuthSaslInit
	"AUTH_SASL_START": true, // remoteDispatchAuthSaslStart
	"AUTH_SASL_STEP":  true, // remoteDispatchAuthSaslStep
	"AUTH_POLKIT":     true, // remoteDispatchAuthPolkit
	"CONNECT_OPEN":    true, // remoteDispatchConnectOpen
	"CONNECT_CLOSE":   true, // remoteDispatchConnectClose
	// remoteDispatchConnectSupportsFeature answers
	// VIR_DRV_FEATURE_PROGRAM_KEEPALIVE first and only then calls
	// remoteGetHypervisorConn: its handler checks for itself.
	"CONNECT_SUPPORTS_FEATURE": true,
}
