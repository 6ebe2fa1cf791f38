package caps

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/virerr"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testHost is a 2-socket, 4-core, 2-thread Xen host with two NUMA nodes.
func testHost() Host {
	h := Host{CPUs: 16, CoresPerSocket: 4, ThreadsPerCore: 2, PAE: true,
		CPUModel: "Skylake-Client-IBRS", CPUVendor: "Intel",
		CPUFeatures: []string{"ds", "acpi", "ss", "vmx"},
		HVM:         true, MemoryKiB: 33554432}
	for n := 0; n < 2; n++ {
		c := Cell{ID: n, MemoryKiB: 16777216, Distances: []int{10, 21}}
		if n == 1 {
			c.Distances = []int{21, 10}
		}
		for i := 0; i < 8; i++ {
			id := n*8 + i
			c.CPUs = append(c.CPUs, CPU{ID: id, Socket: n, Core: i / 2})
		}
		h.Cells = append(h.Cells, c)
	}
	return h
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- want\n%s\n--- got\n%s", p, want, got)
	}
}

func TestCapabilities(t *testing.T) {
	for name, h := range map[string]Host{
		"caps-hvm.xml":     testHost(),
		"caps-pv-only.xml": {CPUs: 2, MemoryKiB: 4194304},
	} {
		got, err := Capabilities(h)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, got)
	}
}

// TestDomainCapabilities uses the arguments and firmware list of libvirt's
// domaincapstest (libxl-xenfv, libxl-xenpv), whose expected output the
// golden files reproduce.
func TestDomainCapabilities(t *testing.T) {
	h := Host{Firmwares: []string{"/usr/lib/xen/boot/hvmloader", "/usr/lib/xen/boot/ovmf.bin"}}
	for _, m := range []string{"xenfv", "xenpv", "xenpvh"} {
		got, err := DomainCapabilities(h, "/usr/bin/qemu-system-x86_64", "x86_64", m, "xen")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "libxl-"+m+".xml", got)
	}
	def, err := DomainCapabilities(Host{}, "", "", "", "")
	if err != nil || !strings.Contains(def, "<machine>xenpv</machine>") ||
		!strings.Contains(def, "<path>/usr/bin/qemu-system-x86_64</path>") {
		t.Errorf("defaults: %v\n%s", err, def)
	}
}

func TestDomainCapabilitiesErrors(t *testing.T) {
	cases := []struct{ emu, arch, machine, virt, msg string }{
		{"", "", "", "kvm", "invalid argument: unknown virttype: kvm"},
		{"", "", "", "bogus", "invalid argument: unknown virttype: bogus"},
		{"", "z80", "", "", "invalid argument: unknown architecture: z80"},
		{"", "", "pc", "", "invalid argument: Xen only supports 'xenpv', 'xenpvh' and 'xenfv' machines"},
	}
	for _, c := range cases {
		_, err := DomainCapabilities(Host{}, c.emu, c.arch, c.machine, c.virt)
		e := virerr.As(err)
		if e == nil || e.Error() != c.msg || e.Domain != virerr.FromLibxl {
			t.Errorf("%+v: got %v", c, err)
		}
	}
	if CheckDomainCapsFlags(1) == nil {
		t.Error("flags accepted")
	}
}

func TestGuests(t *testing.T) {
	got := Host{XenCaps: "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"}.Guests()
	want := "xen/x86_64 xen/i686 hvm/i686 xenpvh/i686 hvm/x86_64 xenpvh/x86_64"
	var s []string
	for _, g := range got {
		s = append(s, g.OSType+"/"+g.Arch)
	}
	if strings.Join(s, " ") != want {
		t.Errorf("got %v", s)
	}
	if g := (Host{}).Guests(); len(g) != 1 || g[0].OSType != "xen" {
		t.Errorf("PV-only host: %v", g)
	}
}
