package libxl

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A libxl save stream (Xen's docs/specs/libxl-migration-stream.pandoc)
// opens with a 16-octet header, big-endian: the ident "LibxlFmt", the
// version, options. Records follow, each an 8-octet header (type, body
// length; little-endian on x86) and a body padded to 8 octets. libxl
// itself writes and reads the stream up to its LIBXC_CONTEXT record;
// from there its save or restore helper (libxc) does.
//
// Why it matters here: libxl 4.17 (and Xen's master as of this writing)
// crashes its process when a stream fails before that record. Its
// check_all_finished then calls libxl__save_helper_abort on a helper not
// yet set up, and helper_done calls its completion_callback, still NULL
// (libxl_save_callout.c). A save aborted in its first milliseconds, a
// save whose destination is gone before the first record, a restore of
// a stream that ends or is not libxl's: each kills the daemon. A save's
// saveOutput (fileStream for a regular file, else the relay saveStream)
// and restoreInput keep libxl out of that window.
const (
	streamIdent     = 0x4c6962786c466d74 // "LibxlFmt"
	streamVersion   = 2
	streamHeaderLen = 16
	recHeaderLen    = 8
	recLibxcContext = 1
	// maxStreamStart bounds how far the records before LIBXC_CONTEXT
	// are followed (libxl 4.17 writes none).
	maxStreamStart = 1 << 20
)

var errNotLibxlStream = errors.New("not a libxl stream")

// libxcContextEnd reads the start of a libxl stream in b. It returns the
// offset just past the LIBXC_CONTEXT record's header when b holds it;
// else how long b must be to tell more (need), or why the stream is not
// one libxl can read.
func libxcContextEnd(b []byte) (end, need int, err error) {
	if len(b) < streamHeaderLen {
		return 0, streamHeaderLen, nil
	}
	ident := binary.BigEndian.Uint64(b)
	version := binary.BigEndian.Uint32(b[8:])
	options := binary.BigEndian.Uint32(b[12:])
	if ident != streamIdent || version != streamVersion || options&1 != 0 {
		return 0, 0, fmt.Errorf("%w: header %x", errNotLibxlStream, b[:streamHeaderLen])
	}
	for off := streamHeaderLen; ; {
		if len(b) < off+recHeaderLen {
			return 0, off + recHeaderLen, nil
		}
		typ := binary.LittleEndian.Uint32(b[off:])
		body := int64(binary.LittleEndian.Uint32(b[off+4:]))
		off += recHeaderLen
		switch typ {
		case recLibxcContext:
			return off, 0, nil
		case 0: // END
			return 0, 0, fmt.Errorf("%w: it ends before its LIBXC_CONTEXT record", errNotLibxlStream)
		}
		off += int((body + 7) &^ 7)
		if off > maxStreamStart {
			return 0, 0, fmt.Errorf("%w: no LIBXC_CONTEXT record in its first %d octets", errNotLibxlStream, maxStreamStart)
		}
	}
}
