package keycode

import "testing"

// Codes of Ctrl+Alt+Delete and others in each codeset, against the qnums
// libvirt's generated tables give them.
func TestToQNum(t *testing.T) {
	for _, tc := range []struct {
		set  Set
		code uint32
		want uint32
	}{
		{Linux, 29, 0x1d},  // KEY_LEFTCTRL
		{Linux, 56, 0x38},  // KEY_LEFTALT
		{Linux, 111, 0xd3}, // KEY_DELETE: AT set 1 0xe053
		{Linux, 99, 0x54},  // KEY_SYSRQ
		{Linux, 1, 0x01},   // KEY_ESC
		{XT, 0xe053, 0xd3},
		{ATSet1, 0x1d, 0x1d},
		{ATSet2, 0x14, 0x1d}, // Control
		{XTKbd, 0x153, 0xd3},
		{USB, 76, 0xd3}, // Delete
		{Win32, 0x2e, 0xd3},
		{OSX, 0x75, 0xd3},
		{QNum, 0xd3, 0xd3},
		{QNum, 0xb7, 0x54},
	} {
		got, ok := ToQNum(tc.set, tc.code)
		if !ok || got != tc.want {
			t.Errorf("%s %#x: %#x %v, want %#x", tc.set, tc.code, got, ok, tc.want)
		}
	}
	for _, tc := range []struct {
		set  Set
		code uint32
	}{{Linux, 0xffff}, {Linux, 240 /* KEY_UNKNOWN: no AT set 1 code */}, {numSets, 1}} {
		if got, ok := ToQNum(tc.set, tc.code); ok {
			t.Errorf("%s %#x: %#x, want none", tc.set, tc.code, got)
		}
	}
}
