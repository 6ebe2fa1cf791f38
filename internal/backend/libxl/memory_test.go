package libxl

import "testing"

// TestGuestMaxKiB: libxl's 1 MiB on top of a guest's maximum is not the
// guest's; Domain-0's maximum is reported as Xen has it.
func TestGuestMaxKiB(t *testing.T) {
	for _, c := range []struct {
		id       uint32
		xen, out uint64
	}{{7, 132096, 131072}, {7, 197632, 196608}, {0, 524288, 524288}, {7, 512, 512}} {
		if got := guestMaxKiB(c.id, c.xen); got != c.out {
			t.Errorf("guestMaxKiB(%d, %d) = %d, want %d", c.id, c.xen, got, c.out)
		}
	}
}
