package migration

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func TestCheckFlags(t *testing.T) {
	if err := CheckFlags(Flags, "libxlDomainMigrateBegin3Params"); err != nil {
		t.Fatalf("all of LIBXL_MIGRATION_FLAGS refused: %v", err)
	}
	if Flags != 0x1|0x2|0x4|0x8|0x10|0x20|0x100 {
		t.Fatalf("Flags = %#x, want libvirt's LIBXL_MIGRATION_FLAGS 0x13f", Flags)
	}
	err := CheckFlags(uint32(libvirt.MigrateLive|libvirt.MigrateNonSharedDisk), "libxlDomainMigrateBegin3Params")
	want := "unsupported flags (0x40) in function libxlDomainMigrateBegin3Params"
	if err == nil || err.Error() != want {
		t.Fatalf("CheckFlags = %v, want %q", err, want)
	}
}

func TestParseParams(t *testing.T) {
	str := func(f, v string) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
	}
	tests := []struct {
		name   string
		params []libvirt.TypedParam
		want   Params
		err    string
	}{
		{"none", nil, Params{}, ""},
		{"all", []libvirt.TypedParam{str("migrate_uri", "tcp://b:49152"), str("destination_name", "g2"), str("destination_xml", "<domain/>")},
			Params{URI: "tcp://b:49152", DestName: "g2", DestXML: "<domain/>"}, ""},
		{"bandwidth", []libvirt.TypedParam{{Field: "bandwidth", Value: *libvirt.NewTypedParamValueUllong(10)}}, Params{Bandwidth: 10}, ""},
		{"bandwidth not a ullong", []libvirt.TypedParam{str("bandwidth", "1")}, Params{},
			"invalid argument: invalid type 'string' for parameter 'bandwidth', expected 'ullong'"},
		{"unknown", []libvirt.TypedParam{str("listen_address", "::")}, Params{}, "argument unsupported: parameter 'listen_address' not supported"},
		{"twice", []libvirt.TypedParam{str("migrate_uri", "a"), str("migrate_uri", "b")}, Params{},
			"invalid argument: parameter 'migrate_uri' occurs multiple times"},
		{"wrong type", []libvirt.TypedParam{{Field: "destination_name", Value: *libvirt.NewTypedParamValueInt(1)}}, Params{},
			"invalid argument: invalid type 'int' for parameter 'destination_name', expected 'string'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams(tt.params)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseParams error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseParams = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestPortRange(t *testing.T) {
	if PortMin != 49152 || PortMax != 49216 {
		t.Fatalf("ports %d-%d, want libvirt's 49152-49216", PortMin, PortMax)
	}
}
