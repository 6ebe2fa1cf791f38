// Package keycode translates the key codes of virDomainSendKey into QEMU's
// key numbers (qnum), which its QMP send-key takes, as libvirt does it
// (virKeycodeValueTranslate) from the same data: keycodemapdb's
// keymaps.csv, used here under its 3-clause BSD license (LICENSE.BSD).
package keycode

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Set is a codeset of virDomainSendKey (virKeycodeSet).
type Set uint32

// The codesets, numbered as libvirt numbers them.
const (
	Linux Set = iota
	XT
	ATSet1
	ATSet2
	ATSet3
	OSX
	XTKbd
	USB
	Win32
	QNum
	numSets
)

var setNames = [numSets]string{"linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum"}

// Valid reports whether s is a codeset libvirt knows.
func (s Set) Valid() bool { return s < numSets }

func (s Set) String() string {
	if !s.Valid() {
		return fmt.Sprintf("codeset %d", uint32(s))
	}
	return setNames[s]
}

//go:embed keymaps.csv
var keymapsCSV string

// The columns of keymaps.csv that hold a codeset's codes.
var columns = map[Set]int{Linux: 1, OSX: 3, ATSet1: 4, ATSet2: 5, ATSet3: 6, USB: 7, Win32: 9}

// key is one Linux key's code in every codeset; -1 where it has none.
type key [numSets]int

// keys lists every Linux key by code, ascending, as libvirt's tables do.
var keys = sync.OnceValue(func() []key { return parse(keymapsCSV) })

// parse reads keymaps.csv as keymap-gen does: a later row of a Linux code
// overrides an earlier one's codes; xt is AT set 1; xt_kbd and qnum are
// derived from AT set 1's codes (an 0xe0-prefixed code as 0x100 or 0x80
// plus its low 7 bits).
func parse(data string) []key {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		panic("keycode: keymaps.csv: " + err.Error()) // embedded: a build fault
	}
	byLinux := map[int]*key{}
	for _, row := range rows[1:] {
		linux, ok := number(row[columns[Linux]])
		if !ok {
			continue
		}
		k := byLinux[linux]
		if k == nil {
			k = new(key)
			for i := range k {
				k[i] = -1
			}
			byLinux[linux] = k
		}
		for set, col := range columns {
			if v, ok := number(row[col]); ok {
				k[set] = v
			}
		}
		if at1 := k[ATSet1]; at1 >= 0 {
			k[XT], k[XTKbd], k[QNum] = at1, at1, at1
			if at1 > 0x7f {
				k[XTKbd], k[QNum] = 0x100|at1&0x7f, 0x80|at1&0x7f
			}
		}
	}
	codes := make([]int, 0, len(byLinux))
	for c := range byLinux {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]key, len(codes))
	for i, c := range codes {
		out[i] = *byLinux[c]
	}
	return out
}

// number is a code as keymaps.csv writes it: decimal or 0x hex.
func number(s string) (int, bool) {
	v, err := strconv.ParseInt(s, 0, 32)
	return int(v), err == nil && v >= 0
}

// ToQNum is code of codeset s as QEMU's key number: the first key, by
// Linux code, with that code in s. Print/SysRq's old qnum 0xb7 is taken
// for its 0x54, as QEMU takes it.
func ToQNum(s Set, code uint32) (uint32, bool) {
	if !s.Valid() {
		return 0, false
	}
	if s == QNum && code == 0xb7 {
		code = 0x54
	}
	for _, k := range keys() {
		if k[s] == int(code) && k[QNum] >= 0 {
			return uint32(k[QNum]), true
		}
	}
	return 0, false
}
