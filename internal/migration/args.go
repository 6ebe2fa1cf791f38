package migration

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// Flags is LIBXL_MIGRATION_FLAGS: the virDomainMigrateFlags libvirt's Xen
// driver accepts at every phase; any other is refused by virCheckFlags.
const Flags = uint32(libvirt.MigrateLive | libvirt.MigratePeer2peer | libvirt.MigrateTunnelled |
	libvirt.MigratePersistDest | libvirt.MigrateUndefineSource | libvirt.MigratePaused |
	libvirt.MigrateChangeProtection)

// The port range a destination listens on for the migration stream
// (LIBXL_MIGRATION_PORT_MIN/MAX in libxl_conf.h).
const (
	PortMin = 49152
	PortMax = 49216
)

// paramTypes is LIBXL_MIGRATION_PARAMETERS, each at most once, and
// VIR_MIGRATE_PARAM_BANDWIDTH, which libvirt's Xen driver lacks and its
// QEMU driver has.
var paramTypes = map[string]typedparam.Type{
	libvirt.MigrateParamURI:       typedparam.String,
	libvirt.MigrateParamDestName:  typedparam.String,
	libvirt.MigrateParamDestXML:   typedparam.String,
	libvirt.MigrateParamBandwidth: typedparam.ULLong,
}

// Params are the migration parameters, "" or 0 when not given.
type Params struct {
	URI      string // VIR_MIGRATE_PARAM_URI: where the data goes
	DestName string // VIR_MIGRATE_PARAM_DEST_NAME: the guest's name there
	DestXML  string // VIR_MIGRATE_PARAM_DEST_XML: its definition there
	// Bandwidth is VIR_MIGRATE_PARAM_BANDWIDTH: the most MiB a second
	// the source sends, for this migration (0: the domain's own).
	Bandwidth uint64
}

// CheckFlags is virCheckFlags(LIBXL_MIGRATION_FLAGS) in the libvirt
// function fn (its name is part of the error).
func CheckFlags(flags uint32, fn string) error {
	if extra := flags &^ Flags; extra != 0 {
		return virerr.UnsupportedFlags(virerr.FromLibxl, extra, fn)
	}
	return nil
}

// ParseParams is virTypedParamsValidate against
// LIBXL_MIGRATION_PARAMETERS, then the reading of the values. (The check
// that each field fits, virTypedParamsDeserialize's, is the RPC edge's:
// libvirt makes it before the driver checks its flags.)
func ParseParams(params []libvirt.TypedParam) (Params, error) {
	if err := typedparam.Validate(params, paramTypes); err != nil {
		return Params{}, err
	}
	var p Params
	for _, prm := range params {
		v, _ := prm.Value.I.(string)
		switch prm.Field {
		case libvirt.MigrateParamBandwidth:
			p.Bandwidth, _ = prm.Value.I.(uint64)
		case libvirt.MigrateParamURI:
			p.URI = v
		case libvirt.MigrateParamDestName:
			p.DestName = v
		case libvirt.MigrateParamDestXML:
			p.DestXML = v
		}
	}
	return p, nil
}
