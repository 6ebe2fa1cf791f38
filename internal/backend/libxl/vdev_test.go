package libxl

import "testing"

// TestVdevNumber: libxl's names and QEMU's own spelling of them (which
// always has the partition, "xvda0") are one number, as QEMU 7.2's
// xen_block_set_vdev numbers them.
func TestVdevNumber(t *testing.T) {
	for name, want := range map[string]int{
		"xvda": 51712, "xvda0": 51712, "d0p0": 51712, "d0": 51712, "xvdb1": 202<<8 | 17,
		"xvdp": 202<<8 | 15<<4, "xvdq": 1<<28 | 16<<8, "xvdaa3": 1<<28 | 26<<8 | 3, "d16p3": 1<<28 | 16<<8 | 3,
		"hda": 768, "hda0": 768, "hdb": 3<<8 | 64, "hdc": 22 << 8, "hdd2": 22<<8 | 64 | 2,
		"sda": 8 << 8, "sdc1": 8<<8 | 33, "xvda15": 202<<8 | 15, "xvda16": 1<<28 | 16,
	} {
		if got, ok := vdevNumber(name); !ok || got != want {
			t.Errorf("vdevNumber(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "xvd", "hd", "d", "dp1", "d0p", "xvdA", "xvda-1", "hde", "sdq",
		"xvda256", "51712", "vda", "xvda1x", "d1234567890", "xvdzzzzz", " xvda", "xvda "} {
		if got, ok := vdevNumber(name); ok {
			t.Errorf("vdevNumber(%q) = %d, want refused", name, got)
		}
	}
}

// FuzzVdevNumber: any name is numbered or refused without a panic; a
// number it gives is a device vdevName names, and that name has the same
// number.
func FuzzVdevNumber(f *testing.F) {
	for _, s := range []string{"xvda", "xvda0", "d0p0", "hdd2", "sdc1", "xvdaa3", "d16p3", "xvdzz", "dp", "xvd9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, ok := vdevNumber(name)
		if !ok {
			return
		}
		back, ok := vdevName(n)
		if !ok {
			t.Fatalf("%q: number %d has no name", name, n)
		}
		if m, ok := vdevNumber(back); !ok || m != n {
			t.Fatalf("%q: %d named %q, which is %d, %v", name, n, back, m, ok)
		}
	})
}
