package caps

import (
	"strings"
	"testing"
	"unicode/utf8"

	"libvirt.org/go/libvirtxml"
)

// FuzzCapabilities: the hypervisor's capabilities string (libxl's
// version_info->capabilities) and a client's domain-capabilities
// arguments never make either document fail: the capabilities read back
// with at most libvirt's 32 guests, each of an arch the string named, and
// domain capabilities, when the arguments are good, read back with the
// emulator, machine and arch asked for.
func FuzzCapabilities(f *testing.F) {
	f.Add("xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", "/usr/bin/qemu-system-x86_64", "x86_64", "xenfv", "xen")
	f.Add("xen-3.0-aarch64", "", "aarch64", "xenpv", "")
	f.Add("xen-3.0-ia64be hvm-3.0-ia64 xen-3.0-powerpc64 xen-3.0-armv7l", "<&'\">", "", "xenpvh", "kvm")
	f.Add(strings.Repeat("hvm-3.0-x86_64 xen-3.0-x86_32p ", 40), "\x00\xff", "i686", "pc", "xen")
	f.Fuzz(func(t *testing.T, xencaps, emulator, arch, machine, virttype string) {
		h := Host{XenCaps: xencaps, CPUs: 4, MemoryKiB: 1 << 20, HVM: true}
		doc, err := Capabilities(h)
		if err != nil {
			t.Fatalf("capabilities of %q: %v", xencaps, err)
		}
		var c libvirtxml.Caps
		if err := c.Unmarshal(doc); err != nil {
			t.Fatalf("capabilities of %q do not read back: %v\n%s", xencaps, err, doc)
		}
		if len(c.Guests) > 32 {
			t.Fatalf("%d guests from %q", len(c.Guests), xencaps)
		}
		for _, g := range c.Guests {
			if xencaps == "" {
				break // the string derived from the host's arch
			}
			named := map[string]string{"i686": "x86_32", "ppc64": "powerpc64"}[g.Arch.Name]
			if named == "" {
				named = g.Arch.Name
			}
			if !strings.Contains(xencaps, named) {
				t.Fatalf("guest arch %s not in %q", g.Arch.Name, xencaps)
			}
		}
		doc, err = DomainCapabilities(h, emulator, arch, machine, virttype)
		if err != nil {
			return
		}
		var dc libvirtxml.DomainCaps
		if err := dc.Unmarshal(doc); err != nil {
			t.Fatalf("domain capabilities do not read back: %v\n%s", err, doc)
		}
		if emulator != "" && xmlText(emulator) && dc.Path != emulator {
			t.Fatalf("emulator %q reads back as %q", emulator, dc.Path)
		}
		if (machine != "" && dc.Machine != machine) || (arch != "" && dc.Arch != arch) {
			t.Fatalf("asked for %s/%s, got %s/%s", machine, arch, dc.Machine, dc.Arch)
		}
	})
}

// xmlText reports whether s is text XML can carry as it is.
func xmlText(s string) bool {
	if !utf8.ValidString(s) || strings.Contains(s, "\r") {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0xfffe || r == 0xffff || (r >= 0xd800 && r <= 0xdfff) {
			return false
		}
	}
	return true
}
