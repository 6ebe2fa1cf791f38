package driver

import (
	"encoding/binary"
	"io"
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

// imageSizes reads the sizes of the image at path of the given format, as
// QEMU's driver reads an image it cannot ask QEMU about
// (qemuDomainGetStatsOneBlockFallback): a raw image's capacity is its
// size; a qcow2 image's is in its header. A block device is its whole
// size. ok is false when the image cannot be read or its format is
// neither.
func imageSizes(path, format string) (ImageSizes, bool) {
	f, err := os.Open(path)
	if err != nil {
		return ImageSizes{}, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ImageSizes{}, false
	}
	var s ImageSizes
	switch {
	case fi.Mode()&os.ModeDevice != 0:
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return ImageSizes{}, false
		}
		s.Physical = uint64(end)
		s.Allocation = s.Physical
	case fi.Mode().IsRegular():
		s.Physical = uint64(fi.Size())
		s.Allocation = allocated(fi)
	default:
		return ImageSizes{}, false
	}
	switch format {
	case "raw":
		s.Capacity = s.Physical
	case "qcow2":
		var hdr [qcow2HeaderLen]byte
		if _, err := f.ReadAt(hdr[:], 0); err != nil {
			return ImageSizes{}, false
		}
		c, ok := qcow2Capacity(hdr[:])
		if !ok {
			return ImageSizes{}, false
		}
		s.Capacity = c
	default:
		return ImageSizes{}, false
	}
	return s, true
}

// qcow2HeaderLen is as much of a qcow2 header as the capacity needs.
const qcow2HeaderLen = 32

// qcow2Capacity reads a qcow2 header: magic "QFI\xfb", a version of 2 or
// more, and at byte 24 the image's virtual size, big-endian.
func qcow2Capacity(hdr []byte) (uint64, bool) {
	if len(hdr) < qcow2HeaderLen || string(hdr[:4]) != "QFI\xfb" || binary.BigEndian.Uint32(hdr[4:8]) < 2 {
		return 0, false
	}
	return binary.BigEndian.Uint64(hdr[24:32]), true
}
