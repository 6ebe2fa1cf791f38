package driver

import (
	"context"
	"errors"
	"math"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/virerr"
)

// BlockInfo is virDomainGetBlockInfo (virsh domblkinfo), which libvirt's
// libxl driver lacks, with the errors of libvirt's QEMU driver
// (qemuDomainGetBlockInfo): the sizes of the image of the disk path names
// (its target, or its source path), read in dom0 as that driver reads
// the images of a domain that does not run (readImageSizes). A running
// Xen guest's disks are read the same way: what QEMU's answer adds for a
// running guest, the highest offset it wrote, neither blkback nor qdisk
// reports. A volume disk has no path here: its pool resolves it at start
// only, for libxl.
func (drv *Driver) BlockInfo(ctx context.Context, dom Domain, path string, flags uint32) (ImageSizes, error) {
	if err := checkFlags(flags, 0, "libxlDomainGetBlockInfo"); err != nil {
		return ImageSizes{}, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return ImageSizes{}, err
	}
	if err := drv.beginJobOf(ctx, d, job.Query); err != nil {
		return ImageSizes{}, err
	}
	defer drv.endJob(d)
	disks := diskDevices(d.snap().def.parsed())
	i := diskIndexByName(disks, path)
	if i < 0 {
		return ImageSizes{}, libxlErr(libvirt.ErrInvalidArg, "invalid path %s not assigned to domain", path)
	}
	disk := &disks[i]
	switch src := disk.Source; {
	case src == nil:
	case src.Network != nil && src.Network.Protocol != "":
		return ImageSizes{}, errNoStorageBackend("network files using %s protocol", src.Network.Protocol)
	case src.Volume != nil:
		return ImageSizes{}, errNoStorageBackend("'%s' storage", diskSourceType(disk))
	}
	local := diskSourcePath(disk)
	if local == "" {
		return ImageSizes{}, libxlErr(libvirt.ErrInvalidArg, "disk '%s' does not currently have a source assigned", path)
	}
	return readImageSizes(local, diskFormat(disk))
}

// errNoStorageBackend is virStorageFileBackendForType's error for a
// source libvirt has no file access to. virsh domblkinfo --all reads it,
// for a network disk of a domain that does not run, as sizes of 0.
func errNoStorageBackend(format string, args ...any) error {
	return virerr.New(virerr.FromStorage, libvirt.ErrInternalError, "missing storage backend for "+format, args...)
}

// DiskErrors is virDomainGetDiskErrors (virsh domblkerror), which
// libvirt's libxl driver lacks, as libvirt's QEMU driver answers
// (qemuDomainGetDiskErrors): for a running domain, with maxerrors 0 the
// number of its disks (what a caller sizes its array by), else the disks
// in an error state, of which a Xen guest has none: the state is QEMU's
// for a guest it paused on an I/O error (its disks' error policy), and
// Xen pauses no guest on one (blkback returns the error to the guest).
func (drv *Driver) DiskErrors(ctx context.Context, dom Domain, maxerrors uint32, flags uint32) (int, error) {
	if err := checkFlags(flags, 0, "libxlDomainGetDiskErrors"); err != nil {
		return 0, err
	}
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return 0, err
	}
	defer drv.endJob(d)
	if maxerrors == 0 {
		return len(diskDevices(s.def.parsed())), nil
	}
	return 0, nil
}

// BlockResize is virDomainBlockResize (virsh blockresize; flags:
// VIR_DOMAIN_BLOCK_RESIZE_BYTES, else size is in KiB), which libvirt's
// libxl driver lacks, with the checks of libvirt's QEMU driver
// (qemuDomainBlockResize): the running guest's disk named by its target
// or source path takes the new size, which its frontend reports to the
// guest. Xen serves disks two ways: QEMU resizes a qdisk disk's image
// (qcow2 and qed to a whole number of sectors, as libvirt rounds them);
// a raw file blkback serves grows, with its loop device. The
// definition does not change: the size is the image's.
func (drv *Driver) BlockResize(ctx context.Context, dom Domain, path string, size uint64, flags uint32) error {
	bytesFlag := uint32(libvirt.DomainBlockResizeBytes)
	if err := checkFlags(flags, bytesFlag, "libxlDomainBlockResize"); err != nil {
		return err
	}
	if flags&bytesFlag == 0 {
		if size > math.MaxUint64/1024 {
			return libxlErr(libvirt.ErrOverflow, "size must be less than %d", uint64(math.MaxUint64/1024))
		}
		size *= 1024
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	disks := diskDevices(d.snap().def.parsed())
	i := diskIndexByName(disks, path)
	if i < 0 {
		return libxlErr(libvirt.ErrInvalidArg, "disk '%s' was not found in the domain config", path)
	}
	disk := &disks[i]
	switch diskFormat(disk) {
	case "qcow2", "qed":
		size = (size + 511) &^ 511
	}
	if src := disk.Source; src != nil && (src.Network != nil || src.Volume != nil) {
		return libxlErr(libvirt.ErrOperationUnsupported, "disk '%s' is a '%s' disk: only a local image can be resized", disk.Target.Dev, diskSourceType(disk))
	}
	local := diskSourcePath(disk)
	if local == "" || disk.ReadOnly != nil || disk.Device == "cdrom" {
		return libxlErr(libvirt.ErrOperationUnsupported, "can't resize empty or readonly disk '%s'", disk.Target.Dev)
	}
	resizer, ok := drv.be.(backend.DiskResizer)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainBlockResize")
	}
	id := d.snap().ref.ID
	if err := resizer.ResizeDisk(ctx, backend.DomID(id), disk.Target.Dev, local, size); err != nil {
		if errors.Is(err, backend.ErrUnsupported) {
			return hostUnsupported(err)
		}
		return libxlFailed(err, "Failed to resize disk '%s' of domain '%d'", disk.Target.Dev, id)
	}
	return nil
}

// diskSourcePath is the local file, block device or directory a disk
// reads, or "".
func diskSourcePath(disk *libvirtxml.DomainDisk) string {
	switch src := disk.Source; {
	case src == nil:
	case src.File != nil:
		return src.File.File
	case src.Block != nil:
		return src.Block.Dev
	case src.Dir != nil:
		return src.Dir.Dir
	}
	return ""
}
