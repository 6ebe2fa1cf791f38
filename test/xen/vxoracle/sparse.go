package main

import (
	"bytes"
	"io"
	"os"
	"syscall"
)

// sparse punches a hole wherever the file has a whole block of zeros, in place (as
// util-linux's fallocate --dig-holes, which dom0's busybox lacks): a save image the oracle
// keeps from one daemon's session for the other's (oracle.sh, area xchg) then takes in dom0's
// root tmpfs only the guest's pages that are not zero, beside the other daemon's own saves.
func sparse(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	const block = 64 << 10
	const keepSize, punchHole = 0x01, 0x02 // FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE
	buf := make([]byte, block)
	zero := make([]byte, block)
	var off int64
	for {
		n, err := io.ReadFull(f, buf)
		if n == block && bytes.Equal(buf, zero) {
			if err := syscall.Fallocate(int(f.Fd()), keepSize|punchHole, off, block); err != nil {
				return &os.PathError{Op: "punch hole", Path: path, Err: err}
			}
		}
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
