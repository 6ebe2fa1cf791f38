//go:build libxl

package libxl

/*
#cgo LDFLAGS: -lxenstore
#include <stdlib.h>
#include <libxl.h>
#include "xl_disks.h"
*/
import "C"

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"virtxend/internal/backend"
)

var _ backend.DiskSnapshotter = (*Backend)(nil)

// SwitchDisks implements backend.DiskSnapshotter. Each disk must be served
// by QEMU (libxl's qdisk backend, in the device model libxl started in
// dom0 for the domain): a disk of blkback (phy) is refused with
// ErrUnsupported before anything changes. The switch is one QMP
// transaction of blockdev-snapshot-sync (mode existing) on the device
// model's socket, so either every disk switched or none did. Then the
// configuration libxl keeps for the domain names the overlays (what xl
// list -l, xl save and migrate read; libvirt's libxl driver never updates
// it), and so does xenstore's params of each disk. The new root node of a
// disk is named VDEV-ovN ("info block" shows it).
func (b *Backend) SwitchDisks(ctx context.Context, id backend.DomID, overlays []backend.DiskOverlay) error {
	if len(overlays) == 0 {
		return fmt.Errorf("%w: no disk to switch", backend.ErrInvalid)
	}
	overlays = append([]backend.DiskOverlay(nil), overlays...)
	vdevs := make([]string, len(overlays))
	for i, o := range overlays {
		if o.Format == "" {
			overlays[i].Format = "qcow2"
		}
		switch {
		case overlays[i].Format != "qcow2":
			return fmt.Errorf("%w: disk %s: overlay %s of format %q: only qcow2 overlays are supported", backend.ErrInvalid, o.Vdev, o.Path, o.Format)
		case !strings.HasPrefix(o.Path, "/"):
			return fmt.Errorf("%w: disk %s: overlay %q is not an absolute path", backend.ErrInvalid, o.Vdev, o.Path)
		}
		vdevs[i] = o.Vdev
	}
	t0 := time.Now()
	s, disks, closer, err := b.qdiskSession(ctx, id, vdevs)
	if err != nil {
		return err
	}
	defer closer.Close()
	used, err := s.nodeNames()
	if err != nil {
		return err
	}
	actions := make([]qmpAction, len(overlays))
	nodes := make([]string, len(overlays))
	for i, o := range overlays {
		d, err := xenDisk(disks, o.Vdev)
		if err != nil {
			return err
		}
		nodes[i] = overlayNodeName(o.Vdev, used)
		used[nodes[i]] = true
		actions[i] = switchAction(d.Node, o.Path, o.Format, nodes[i])
	}
	if err := s.transaction(actions); err != nil {
		return txError(err, fmt.Sprintf("no disk of domain %d switched", id))
	}
	closer.Close()
	b.log.Info("disks switched to their overlays", "domid", id, "disks", vdevs, "nodes", nodes, "took", time.Since(t0))
	if err := b.c.repointStoredDisks(uint32(id), overlays); err != nil {
		return fmt.Errorf("%w: domain %d's disks %s write to their overlays, but libxl's configuration of the domain still names the old images "+
			"(xl list -l, save and migrate would use those): %v", backend.ErrFailed, id, strings.Join(vdevs, ", "), err)
	}
	for _, o := range overlays {
		if err := xsDiskParams(uint32(id), o.Vdev, o.Format+":"+o.Path); err != nil {
			b.log.Warn("xenstore still names the disk's old image", "domid", id, "disk", o.Vdev, "err", err)
		}
	}
	return nil
}

// xsDiskParams sets the params in xenstore of domain domid's disk vdev
// (vx_xs_disk_params); libxl's devid of a disk is its vdevNumber.
func xsDiskParams(domid uint32, vdev, params string) error {
	devid, ok := vdevNumber(vdev)
	if !ok {
		return fmt.Errorf("%q is no disk name", vdev)
	}
	cv, freeV := cstring(vdev)
	defer freeV()
	cp, freeP := cstring(params)
	defer freeP()
	if rc := C.vx_xs_disk_params(C.uint32_t(domid), C.int(devid), cv, cp); rc != 0 {
		return syscall.Errno(rc)
	}
	return nil
}

// SnapshotDisksInternal implements backend.DiskSnapshotter: one QMP
// transaction of blockdev-snapshot-internal-sync, on the root node of each
// disk (its top image: an overlay SwitchDisks put there, if any), all or
// none. Disks not served by QEMU are refused with ErrUnsupported.
func (b *Backend) SnapshotDisksInternal(ctx context.Context, id backend.DomID, vdevs []string, name string) error {
	switch {
	case len(vdevs) == 0:
		return fmt.Errorf("%w: no disk to snapshot", backend.ErrInvalid)
	case name == "":
		return fmt.Errorf("%w: an internal snapshot needs a name", backend.ErrInvalid)
	}
	t0 := time.Now()
	s, disks, closer, err := b.qdiskSession(ctx, id, vdevs)
	if err != nil {
		return err
	}
	defer closer.Close()
	actions := make([]qmpAction, len(vdevs))
	for i, v := range vdevs {
		d, err := xenDisk(disks, v)
		if err != nil {
			return err
		}
		if d.Format != "qcow2" {
			return fmt.Errorf("%w: disk %s's image %s is %s: only qcow2 holds internal snapshots", backend.ErrInvalid, v, d.File, d.Format)
		}
		actions[i] = internalAction(d.Node, name)
	}
	if err := s.transaction(actions); err != nil {
		return txError(err, fmt.Sprintf("no disk of domain %d has snapshot %q", id, name))
	}
	b.log.Info("internal snapshot of disks taken", "domid", id, "disks", vdevs, "name", name, "took", time.Since(t0))
	return nil
}

// qdiskSession checks domain id's disks vdevs (qdiskDisks), then opens a
// QMP session with its device model and reads the disks it serves.
func (b *Backend) qdiskSession(ctx context.Context, id backend.DomID, vdevs []string) (*qmpSession, []qemuDisk, io.Closer, error) {
	if err := b.qdiskDisks(id, vdevs); err != nil {
		return nil, nil, nil, err
	}
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return nil, nil, nil, b.guestErr(id, err)
	}
	disks, err := s.disks()
	if err != nil {
		closer.Close()
		return nil, nil, nil, err
	}
	return s, disks, closer, nil
}

// qdiskDisks checks that domain id has each disk of vdevs, once, served by
// QEMU in dom0 (libxl's qdisk backend), and writable.
func (b *Backend) qdiskDisks(id backend.DomID, vdevs []string) error {
	seen := map[string]bool{}
	for _, v := range vdevs {
		if seen[v] {
			return fmt.Errorf("%w: disk %s named twice", backend.ErrInvalid, v)
		}
		seen[v] = true
		served, err := b.servedDisk(id, v)
		if err != nil {
			return err
		}
		if served.backend != "qdisk" {
			return fmt.Errorf("%w: disk %s of domain %d is served by libxl's %s backend (blkback, in the kernel), not by QEMU: "+
				"its image cannot change under the running guest; only qdisk disks (a qcow2 image, or driver name='qemu') can", backend.ErrUnsupported, v, id, served.backend)
		}
	}
	return nil
}

// servedDisk is how this dom0 serves domain id's disk vdev, which must be
// a disk (not a cdrom) that no other domain serves.
func (b *Backend) servedDisk(id backend.DomID, vdev string) (diskServing, error) {
	served, ok := b.c.diskServed(uint32(id), vdev)
	if !ok {
		if _, err := b.c.Info(uint32(id)); err != nil {
			return diskServing{}, err
		}
		return diskServing{}, fmt.Errorf("%w: domain %d has no disk %s", backend.ErrNoDevice, id, vdev)
	}
	switch {
	case served.cdrom:
		return served, fmt.Errorf("%w: disk %s of domain %d is a cdrom", backend.ErrInvalid, vdev, id)
	case served.backendDomid != 0:
		return served, fmt.Errorf("%w: disk %s of domain %d is served from domain %d, not from this dom0's device model", backend.ErrUnsupported, vdev, id, served.backendDomid)
	}
	return served, nil
}

// diskServing is how libxl serves one disk of a running domain.
type diskServing struct {
	backend      string // libxl_disk_backend: "qdisk", "phy", ...
	backendDomid uint32
	cdrom        bool
}

// diskServed is how domain domid's disk vdev is served, from libxl's list
// of its disks (xenstore); false when libxl lists no such disk.
func (c *Context) diskServed(domid uint32, vdev string) (diskServing, bool) {
	defer c.hold()()
	cs, free := cstring(vdev)
	defer free()
	var be, cdrom C.int
	var bd C.uint32_t
	if C.vx_disk_served(c.ctx, C.uint32_t(domid), cs, &be, &bd, &cdrom) != 0 {
		return diskServing{}, false
	}
	name := "unknown"
	if s := C.libxl_disk_backend_to_string(C.libxl_disk_backend(be)); s != nil {
		name = C.GoString(s)
	}
	return diskServing{backend: name, backendDomid: uint32(bd), cdrom: cdrom != 0}, true
}

// repointStoredDisks makes libxl's stored configuration of domain domid
// name each overlay as its disk's image (vx_stored_disks_repoint).
func (c *Context) repointStoredDisks(domid uint32, overlays []backend.DiskOverlay) error {
	defer c.hold()()
	n := len(overlays)
	vdevs := (*[1 << 20]*C.char)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[:n:n]
	paths := (*[1 << 20]*C.char)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[:n:n]
	defer C.free(unsafe.Pointer(&vdevs[0]))
	defer C.free(unsafe.Pointer(&paths[0]))
	for i, o := range overlays {
		vdevs[i], paths[i] = C.CString(o.Vdev), C.CString(o.Path)
		defer C.free(unsafe.Pointer(vdevs[i]))
		defer C.free(unsafe.Pointer(paths[i]))
	}
	format, free := cstring(overlays[0].Format)
	defer free()
	var missing C.int
	rc := C.vx_stored_disks_repoint(c.ctx, C.uint32_t(domid), C.int(n), &vdevs[0], &paths[0], format, &missing)
	if rc != 0 {
		err := c.fail("libxl_userdata_retrieve and _store of libxl-json", rc)
		if missing >= 0 {
			return fmt.Errorf("libxl's configuration has no disk %s: %w", overlays[missing].Vdev, err)
		}
		return err
	}
	return nil
}

// DeleteDisksInternal implements backend.DiskSnapshotter: QEMU's
// blockdev-snapshot-delete-internal-sync on the root node of each disk,
// one disk after the other (QMP has no transaction action for it). A
// disk without the snapshot is skipped, as the contract says.
func (b *Backend) DeleteDisksInternal(ctx context.Context, id backend.DomID, vdevs []string, name string) error {
	if name == "" {
		return fmt.Errorf("%w: an internal snapshot needs a name", backend.ErrInvalid)
	}
	s, disks, closer, err := b.qdiskSession(ctx, id, vdevs)
	if err != nil {
		return err
	}
	defer closer.Close()
	for _, v := range vdevs {
		d, err := xenDisk(disks, v)
		if err != nil {
			return err
		}
		args := map[string]string{"device": d.Node, "name": name}
		if err := s.execute("blockdev-snapshot-delete-internal-sync", args, nil); err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				continue
			}
			return fmt.Errorf("%w: disk %s: %v", backend.ErrFailed, v, err)
		}
	}
	return nil
}
