package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

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
	src := disk.Source
	var local string
	switch {
	case src == nil:
	case src.File != nil:
		local = src.File.File
	case src.Block != nil:
		local = src.Block.Dev
	case src.Dir != nil:
		local = src.Dir.Dir
	case src.Network != nil && src.Network.Protocol != "":
		return ImageSizes{}, errNoStorageBackend("network files using %s protocol", src.Network.Protocol)
	case src.Volume != nil:
		return ImageSizes{}, errNoStorageBackend("'%s' storage", diskSourceType(disk))
	}
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
