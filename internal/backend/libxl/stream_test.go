package libxl

import (
	"encoding/binary"
	"errors"
	"testing"
)

// libxlStart is the start of a libxl stream as libxl 4.17 writes it: the
// header, then the given records' headers and padded bodies.
func libxlStart(records ...uint32) []byte {
	b := binary.BigEndian.AppendUint64(nil, streamIdent)
	b = binary.BigEndian.AppendUint32(b, streamVersion)
	b = binary.BigEndian.AppendUint32(b, 0)
	for _, typ := range records {
		body := 0
		if typ != recLibxcContext {
			body = 5
		}
		b = binary.LittleEndian.AppendUint32(b, typ)
		b = binary.LittleEndian.AppendUint32(b, uint32(body))
		b = append(b, make([]byte, (body+7)&^7)...)
	}
	return b
}

func TestLibxcContextEnd(t *testing.T) {
	full := libxlStart(recLibxcContext)
	withXenstore := libxlStart(2, recLibxcContext)
	bigEndian := libxlStart(recLibxcContext)
	bigEndian[15] = 1
	for _, tc := range []struct {
		name      string
		b         []byte
		end, need int
		bad       bool
	}{
		{"empty", nil, 0, 16, false},
		{"half a header", full[:10], 0, 16, false},
		{"the header", full[:16], 0, 24, false},
		{"LIBXC_CONTEXT", full, 24, 0, false},
		{"and libxc's stream", append(full, "libxc"...), 24, 0, false},
		{"a record before it", withXenstore[:30], 0, 40, false},
		{"a record before it, whole", withXenstore, 40, 0, false},
		{"not libxl's", []byte("virtxend-sim-stream 2\n.........."), 0, 0, true},
		{"big-endian", bigEndian, 0, 0, true},
		{"END first", libxlStart(0), 0, 0, true},
	} {
		end, need, err := libxcContextEnd(tc.b)
		if end != tc.end || need != tc.need || (err != nil) != tc.bad {
			t.Errorf("%s: end %d need %d err %v, want end %d need %d bad %v", tc.name, end, need, err, tc.end, tc.need, tc.bad)
		}
		if err != nil && !errors.Is(err, errNotLibxlStream) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
