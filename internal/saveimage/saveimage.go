// Package saveimage is the layout of a saved guest's image, as libvirt's
// Xen driver writes it (libxlDoDomainSave) and reads it
// (libxlDomainSaveImageOpen): a 64-byte header (magic, version, XML length,
// ten unused words), the domain XML with its terminating NUL, then the
// hypervisor's own stream (libxl's, or the simulated host's). An image
// saved by libvirt's Xen driver restores here and the other way round.
//
// Two of libvirt's unused words carry what libvirt's header has no room
// for; libvirt writes them as zero and never reads them:
//   - unused[0] is the state the guest was saved in (StateRunning or
//     StatePaused; zero, libvirt's, means running), so that a restore
//     brings a paused guest back paused, as libvirt's QEMU driver does;
//   - the magic is PartialMagic while the image is being written and
//     becomes Magic only once the stream is complete (as QEMU's driver
//     does with its own magic), so an image cut short by a crash or an
//     abort is refused, by libvirt too ("image magic is incorrect").
//
// The XML area may be longer than the XML (NUL padding, which libvirt's
// parser stops at), so that save-image-define can rewrite it in place.
package saveimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Magic starts a complete image (LIBXL_SAVE_MAGIC).
const Magic = "libvirt-xml\n \x00 \r"

// PartialMagic starts an image whose stream is still being written.
const PartialMagic = "libvirt-xmlpart\x00"

// Version is the version written (LIBXL_SAVE_VERSION: libxl's stream v2).
const Version = 2

// HeaderSize is the size of the header before the XML.
const HeaderSize = 64

// xmlPad is what the XML area is rounded up to, leaving room to edit it.
const xmlPad = 4096

// State is how the guest was when saved (unused[0]).
type State uint32

// Saved states; StateUnknown is libvirt's zero (restore running).
const (
	StateUnknown State = 0
	StateRunning State = 1
	StatePaused  State = 2
)

// Header is an image's header.
type Header struct {
	Version uint32
	// XMLLen is the length of the XML area, its NUL and padding included.
	XMLLen uint32
	State  State
}

// Errors of Read, each with libvirt's text; the caller gives them their
// libvirt code (ErrMagic is VIR_ERR_INVALID_ARG, the others
// VIR_ERR_OPERATION_FAILED).
var (
	ErrHeader     = errors.New("failed to read libxl header")
	ErrMagic      = errors.New("image magic is incorrect")
	ErrIncomplete = errors.New("save image is incomplete")
	ErrVersion    = errors.New("image version is not supported")
	ErrXMLLen     = errors.New("invalid XML length")
	ErrXML        = errors.New("failed to read XML")
)

// maxXMLLen bounds the XML area read, so that a damaged header cannot make
// a reader allocate gigabytes (libvirt's domain XML limit is 10 MB).
const maxXMLLen = 10 << 20

func (h Header) marshal(magic string) []byte {
	b := make([]byte, HeaderSize)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[16:], h.Version)
	binary.LittleEndian.PutUint32(b[20:], h.XMLLen)
	binary.LittleEndian.PutUint32(b[24:], uint32(h.State))
	return b
}

// Read reads the header and the XML at r's start and leaves r at the
// hypervisor's stream. The XML is returned without its NUL and padding.
func Read(r io.Reader) (Header, string, error) {
	b := make([]byte, HeaderSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Header{}, "", ErrHeader
	}
	switch string(b[:16]) {
	case Magic:
	case PartialMagic:
		return Header{}, "", ErrIncomplete
	default:
		return Header{}, "", ErrMagic
	}
	h := Header{
		Version: binary.LittleEndian.Uint32(b[16:]),
		XMLLen:  binary.LittleEndian.Uint32(b[20:]),
		State:   State(binary.LittleEndian.Uint32(b[24:])),
	}
	if h.Version > Version {
		return Header{}, "", fmt.Errorf("%w (%d > %d)", ErrVersion, h.Version, Version)
	}
	// libvirt reads the length as a signed int: above 2^31 is "<= 0".
	if int32(h.XMLLen) <= 0 || h.XMLLen > maxXMLLen {
		return Header{}, "", fmt.Errorf("%w: %d", ErrXMLLen, int32(h.XMLLen))
	}
	x := make([]byte, h.XMLLen)
	if _, err := io.ReadFull(r, x); err != nil {
		return Header{}, "", ErrXML
	}
	if i := bytes.IndexByte(x, 0); i >= 0 {
		x = x[:i]
	}
	return h, string(x), nil
}

// Writer writes an image: Begin puts the header (partial) and the XML,
// the caller has the hypervisor write its stream after them, and Commit
// marks the image complete.
type Writer struct {
	f *os.File
	// seekable: f is a regular file, which Commit can rewrite in place.
	// A pipe or device (a save to a fifo) is written straight through
	// with the complete magic, as libvirt writes it.
	seekable bool
}

// Begin writes the header and xml at f's start and leaves f's offset
// where the stream goes.
func Begin(f *os.File, xml string, state State) (*Writer, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, seekable: fi.Mode().IsRegular()}
	area := areaFor(len(xml))
	magic := PartialMagic
	if !w.seekable {
		magic = Magic
	}
	hdr := Header{Version: Version, XMLLen: uint32(area), State: state}
	buf := make([]byte, HeaderSize+area)
	copy(buf, hdr.marshal(magic))
	copy(buf[HeaderSize:], xml)
	if !w.seekable {
		_, err := f.Write(buf)
		return w, err
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return nil, err
	}
	if _, err := f.Seek(int64(len(buf)), io.SeekStart); err != nil {
		return nil, err
	}
	return w, nil
}

// areaFor is the XML area for n bytes of XML: its NUL, rounded up.
func areaFor(n int) int {
	return (n + 1 + xmlPad - 1) / xmlPad * xmlPad
}

// Commit makes the image complete once the stream is written and synced.
func (w *Writer) Commit() error {
	if !w.seekable {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if _, err := w.f.WriteAt([]byte(Magic), 0); err != nil {
		return err
	}
	return w.f.Sync()
}

// ErrNoRoom is returned by Rewrite when the new XML does not fit the area.
var ErrNoRoom = errors.New("the new XML does not fit the image's XML area")

// Rewrite replaces the XML (and state) of the complete image in f, in
// place: the stream after it does not move. It fails with ErrNoRoom when
// xml does not fit the existing area.
func Rewrite(f *os.File, xml string, state State) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h, _, err := Read(f)
	if err != nil {
		return err
	}
	if len(xml)+1 > int(h.XMLLen) {
		return ErrNoRoom
	}
	h.State = state
	buf := make([]byte, HeaderSize+int(h.XMLLen))
	copy(buf, h.marshal(Magic))
	copy(buf[HeaderSize:], xml)
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	return f.Sync()
}

// Replace gives the complete image at path a new XML and state: in place
// when it fits, else by copying the stream into a new image that replaces
// the old one atomically.
func Replace(path, xml string, state State) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := Rewrite(f, xml, state); !errors.Is(err, ErrNoRoom) {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, _, err := Read(f); err != nil { // to the stream
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := Begin(tmp, xml, state)
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, f); err != nil {
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
