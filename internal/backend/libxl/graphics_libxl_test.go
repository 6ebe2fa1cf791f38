//go:build libxl

package libxl

import (
	"encoding/json"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxlconf/libxlconftest"
)

// TestGraphicsPortsAsGiven: the backend chooses no graphics port. The
// JSON it hands libxl carries the VNC display and SPICE port of the
// configuration the driver translated (with the ports its allocator gave,
// which the driver writes into the live XML), and libxl's own reader keeps
// them: what dumpxml shows is what the device model is told.
func TestGraphicsPortsAsGiven(t *testing.T) {
	const head = `<domain type='xen'><name>g</name><uuid>2147d599-9cc6-c0dc-92ab-4064b5446e9b</uuid>` +
		`<memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>`
	cases := []struct {
		name, devices string
		want          map[int]int // graphics index -> port the allocator gave
		display       int         // the device model's VNC display, -1: no VNC
		spicePort     int
	}{
		{"vnc", `<graphics type='vnc' autoport='yes'/>`, map[int]int{0: 5907}, 7, 0},
		{"vnc and spice", `<graphics type='vnc' autoport='yes'/><graphics type='spice' autoport='yes'/>`,
			map[int]int{0: 5907, 1: 5908}, -1, 5908},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := domxml.Parse(head + c.devices + `</devices></domain>`)
			if err != nil {
				t.Fatal(err)
			}
			h := libxlconftest.FixtureHost()
			next := 5907
			h.GraphicsPort = func() (int, error) { next++; return next - 1, nil }
			cfg, err := libxlconf.BuildDomainConfig(d, h)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range c.want {
				if cfg.GraphicsPorts[i] != p {
					t.Fatalf("translation chose ports %v, want %v", cfg.GraphicsPorts, c.want)
				}
			}
			js, err := configJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := libxlView(t, canonicalOrFail(t, "ours", js))
			if len(got.VFBs) != 1 || got.VFBs[0].VNC.Display != 7 {
				t.Errorf("libxl reads vfbs %+v, want one on display 7 (port 5907)", got.VFBs)
			}
			hvm := got.BInfo.HVM
			if c.display >= 0 && hvm.VNC.Display != c.display {
				t.Errorf("device model VNC display %d, want %d", hvm.VNC.Display, c.display)
			}
			if hvm.Spice.Port != c.spicePort {
				t.Errorf("SPICE port %d, want %d", hvm.Spice.Port, c.spicePort)
			}
		})
	}
}

// libxlView is the part of libxl's JSON that says where displays listen.
type libxlViewDoc struct {
	VFBs []struct {
		VNC struct {
			Display int `json:"display"`
		} `json:"vnc"`
	} `json:"vfbs"`
	BInfo struct {
		HVM struct {
			VNC struct {
				Display int `json:"display"`
			} `json:"vnc"`
			Spice struct {
				Port int `json:"port"`
			} `json:"spice"`
		} `json:"type.hvm"`
	} `json:"b_info"`
}

func libxlView(t *testing.T, js []byte) libxlViewDoc {
	t.Helper()
	var v libxlViewDoc
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatalf("libxl's JSON: %v\n%s", err, js)
	}
	return v
}
