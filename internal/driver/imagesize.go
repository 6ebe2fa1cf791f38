package driver

import (
	"encoding/binary"
	"io"
	"math"
	"os"
	"sync"
	"time"
)

// ImageSizes are a disk image's sizes as bulk statistics report them:
// what it occupies on the host (allocation), its size to the guest
// (capacity) and the size of the file or device holding it (physical).
type ImageSizes struct {
	Allocation, Capacity, Physical uint64
}

// imageCache keeps the sizes of the images bulk statistics read, so that
// a poll of many guests costs one stat(2) per image, not an open, a read
// and a seek: a file's entry holds while its inode, size and times are
// the same; a block device's, whose resize its inode does not show, for
// deviceSizeTTL.
type imageCache struct {
	mu sync.Mutex
	m  map[string]cachedImage
}

type cachedImage struct {
	format string
	id     fileID
	at     time.Time
	sizes  ImageSizes
	ok     bool
}

// fileID is what identifies a version of a file to the cache.
type fileID struct {
	dev, ino, rdev uint64
	mode           os.FileMode
	size           int64
	mtime, ctime   int64
}

// deviceSizeTTL is how long a block device's size is taken as known.
const deviceSizeTTL = 5 * time.Second

// sizes is imageSizes through the cache.
func (c *imageCache) sizes(path, format string, now time.Time) (ImageSizes, bool) {
	id, ok := statID(path)
	if !ok {
		return ImageSizes{}, false
	}
	c.mu.Lock()
	e, hit := c.m[path]
	c.mu.Unlock()
	if hit && e.format == format && e.id == id && (id.mode&os.ModeDevice == 0 || now.Sub(e.at) < deviceSizeTTL) {
		return e.sizes, e.ok
	}
	s, ok := imageSizes(path, format)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedImage{}
	}
	c.m[path] = cachedImage{format: format, id: id, at: now, sizes: s, ok: ok}
	c.mu.Unlock()
	return s, ok
}

// forget drops the entries of the paths not in keep, so that the cache
// holds only images some definition still names.
func (c *imageCache) forget(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.m {
		if !keep[p] {
			delete(c.m, p)
		}
	}
}

// imageSizes is readImageSizes for bulk statistics, which leave out the
// sizes of an image they cannot read.
func imageSizes(path, format string) (ImageSizes, bool) {
	s, err := readImageSizes(path, format)
	return s, err == nil
}

// readImageSizes reads the sizes of the image at path of the given
// format as libvirt's QEMU driver reads an image it cannot ask QEMU about
// (qemuStorageLimitsRefresh: virStorageSourceUpdateBackingSizes, then
// virStorageSourceUpdateCapacity), with its errors: a file's allocation is
// its blocks, its capacity and physical size its length; a device's are
// its whole size. A raw image's capacity is its physical size; another
// format's is the one its header gives (imageHeaderSizes), or the physical
// size where the header gives none. A device holding an image of another
// format than raw has no allocation: only the guest's writes would tell.
func readImageSizes(path, format string) (ImageSizes, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImageSizes{}, errSystem(err, "Failed to open file '%s'", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ImageSizes{}, errSystem(err, "cannot stat file '%s'", path)
	}
	hdr := make([]byte, imageHeaderLen)
	n, err := f.ReadAt(hdr, 0)
	if err != nil && err != io.EOF {
		return ImageSizes{}, errSystem(err, "cannot read header '%s'", path)
	}
	var s ImageSizes
	switch {
	case fi.Mode().IsRegular():
		s.Physical = uint64(fi.Size())
		s.Allocation = allocated(fi)
	case fi.IsDir():
	default:
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return ImageSizes{}, errSystem(err, "failed to seek to end of %s", path)
		}
		s.Physical = uint64(end)
		block := fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0
		if format == "raw" || !block {
			s.Allocation = s.Physical
		}
	}
	s.Capacity = s.Physical
	if c, ok := headerCapacity(format, hdr[:n]); ok && c != 0 {
		s.Capacity = c
	}
	return s, nil
}

// imageHeader is where an image format's header gives the image's size
// to the guest, as libvirt's fileTypeInfo has it (storage_file_probe.c):
// a byte offset, the byte order, and the unit.
type imageHeader struct {
	offset    int
	bigEndian bool
	unit      uint64
}

// imageHeaders are the formats whose header libvirt reads a size from;
// raw and the formats it has no magic for take the physical size.
var imageHeaders = map[string]imageHeader{
	"qcow":  {offset: 24, bigEndian: true, unit: 1},
	"qcow2": {offset: 24, bigEndian: true, unit: 1},
	"qed":   {offset: 48, unit: 1},
	"vpc":   {offset: 40, bigEndian: true, unit: 1},
	"vdi":   {offset: 368, unit: 1},
	"vmdk":  {offset: 12, unit: 512},
	"bochs": {offset: 84, unit: 1},
	"ploop": {offset: 36, unit: 512},
	"cow":   {offset: 1036, bigEndian: true, unit: 1},
}

// imageHeaderLen is as much of an image as the formats' sizes need.
const imageHeaderLen = 1044

// headerCapacity is virStorageFileProbeGetMetadata's capacity: the size
// the header of an image of the given format gives, read whatever the
// header's magic (libvirt does not check it for a format it is told); ok
// is false for a format without one, a header too short to hold it, and a
// size that would overflow in bytes.
func headerCapacity(format string, hdr []byte) (uint64, bool) {
	h, ok := imageHeaders[format]
	if !ok || len(hdr) < h.offset+8 {
		return 0, false
	}
	b := hdr[h.offset : h.offset+8]
	v := binary.LittleEndian.Uint64(b)
	if h.bigEndian {
		v = binary.BigEndian.Uint64(b)
	}
	if v > math.MaxUint64/h.unit {
		return 0, false
	}
	return v * h.unit, true
}
