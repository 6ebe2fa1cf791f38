package domxml

import (
	"strings"
	"testing"
)

// TestAsLibvirtFormats: what test/xen's oracle (libvirt 9.0's libxl driver,
// define + dumpxml --inactive of the same XML on the same host) showed we
// formatted otherwise; libvirt 11.3's code is the same for each.
func TestAsLibvirtFormats(t *testing.T) {
	const hvm = "<domain type='xen'><name>g</name><memory>131072</memory><os><type>hvm</type></os>"
	cases := []struct {
		name, in string
		want     []string // lines the formatted XML has
		not      []string // and must not have
	}{
		{"variable clock from a localtime adjustment",
			hvm + "<clock offset='localtime' adjustment='3600'/></domain>",
			[]string{"<clock offset='variable' adjustment='3600' basis='localtime'/>"}, nil},
		{"variable clock from a utc adjustment",
			hvm + "<clock offset='utc' adjustment='-60'/></domain>",
			[]string{"<clock offset='variable' adjustment='-60' basis='utc'/>"}, nil},
		{"utc reset stays",
			hvm + "<clock offset='utc' adjustment='reset'/></domain>",
			[]string{"<clock offset='utc' adjustment='reset'/>"}, nil},
		{"hyperv without a mode is custom",
			hvm + "<features><hyperv><relaxed state='on'/></hyperv></features></domain>",
			[]string{"<hyperv mode='custom'>", "<relaxed state='on'/>", "</hyperv>"}, nil},
		{"an empty hyperv is written open and closed",
			hvm + "<features><hyperv mode='passthrough'/></features></domain>",
			[]string{"<hyperv mode='passthrough'>", "</hyperv>"}, []string{"<hyperv mode='passthrough'/>"}},
		{"a none video is not primary",
			hvm + "<devices><graphics type='vnc'/><video><model type='none' vram='1024'/></video></devices></domain>",
			[]string{"<model type='none'/>"}, []string{"primary"}},
		{"a disk's default cache is not formatted",
			hvm + "<devices><disk type='file'><driver name='qemu' type='raw' cache='default' copy_on_read='default'/>" +
				"<source file='/x'/><target dev='hda'/></disk></devices></domain>",
			[]string{"<driver name='qemu' type='raw'/>"}, []string{"default"}},
		// (virDomainDiskDefFormat writes the device always; virsh attach-disk gives none)
		{"a disk without a device is a disk",
			hvm + "<devices><disk type='file'><source file='/x'/><target dev='hda'/></disk></devices></domain>",
			[]string{"<disk type='file' device='disk'>"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseWith(c.in, Options{Rand: fixedRand()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := FormatFlags(d, FormatInactive)
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(got, "\n") {
				lines[strings.TrimSpace(l)] = true
			}
			for _, w := range c.want {
				if !lines[w] {
					t.Errorf("no line %q in\n%s", w, got)
				}
			}
			for _, n := range c.not {
				if strings.Contains(got, n) {
					t.Errorf("%q in\n%s", n, got)
				}
			}
		})
	}
}
