package driver

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"path/filepath"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/typedparam"
)

// Block copy (virsh blockcopy), which libvirt's libxl driver lacks, as
// libvirt's QEMU driver runs it (qemuDomainBlockCopyCommon): the device
// model mirrors the disk into a new image (QMP drive-mirror), ready once
// copied, until blockjob --pivot moves the disk onto the copy or --abort
// leaves it where it was. As libvirt's, a persistent domain needs
// --transient-job.

// The parameters of virDomainBlockCopy.
var blockCopyParamTypes = map[string]typedparam.Type{
	"bandwidth": typedparam.ULLong, "granularity": typedparam.UInt, "buf-size": typedparam.ULLong,
}

// BlockCopy is virDomainBlockCopy (flags: VIR_DOMAIN_BLOCK_COPY_*): disk
// copied into the image destXML describes (a <disk> with a file or block
// <source> and its <driver type>), with the parameters bandwidth (bytes a
// second), granularity and buf-size.
func (drv *Driver) BlockCopy(ctx context.Context, dom Domain, disk, destXML string, params []libvirt.TypedParam, flags uint32) error {
	shallow, reuse := uint32(libvirt.DomainBlockCopyShallow), uint32(libvirt.DomainBlockCopyReuseExt)
	transient, syncWrites := uint32(libvirt.DomainBlockCopyTransientJob), uint32(libvirt.DomainBlockCopySynchronousWrites)
	if err := checkFlags(flags, shallow|reuse|transient|syncWrites, "libxlDomainBlockCopy"); err != nil {
		return err
	}
	if err := typedparam.Validate(params, blockCopyParamTypes); err != nil {
		return err
	}
	to := backend.CopyTarget{Shallow: flags&shallow != 0, Reuse: flags&reuse != 0, SyncWrites: flags&syncWrites != 0}
	var speed uint64
	for _, p := range params {
		switch p.Field {
		case "bandwidth":
			speed, _ = p.Value.I.(uint64)
		case "granularity":
			g, _ := p.Value.I.(uint32)
			if bits.OnesCount32(g) > 1 {
				return libxlErr(libvirt.ErrInvalidArg, "granularity must be power of 2")
			}
			to.Granularity = g
		case "buf-size":
			to.BufSize, _ = p.Value.I.(uint64)
		}
	}
	dest := &libvirtxml.DomainDisk{}
	if err := dest.Unmarshal(destXML); err != nil {
		return libxlErr(libvirt.ErrXMLError, "%v", err)
	}
	to.Path = diskSourcePath(dest)
	if dest.Driver != nil {
		to.Format = dest.Driver.Type
	}
	return drv.blockCopy(ctx, dom, disk, to, speed, flags&transient != 0)
}

// blockCopyFromRebase is virDomainBlockRebase with COPY: a copy into the
// image at dest, of its format with COPY_RAW raw, else the disk's (or, a
// reused one's, probed); bandwidth in MiB unless inBytes.
func (drv *Driver) blockCopyFromRebase(ctx context.Context, dom Domain, disk, dest string, bandwidth uint64, flags uint32) error {
	to := backend.CopyTarget{Path: dest, Shallow: flags&uint32(libvirt.DomainBlockRebaseShallow) != 0,
		Reuse: flags&uint32(libvirt.DomainBlockRebaseReuseExt) != 0}
	if flags&uint32(libvirt.DomainBlockRebaseCopyRaw) != 0 {
		to.Format = "raw"
	}
	speed, err := bandwidthBytes(bandwidth, flags&uint32(libvirt.DomainBlockRebaseBandwidthBytes) != 0)
	if err != nil {
		return err
	}
	return drv.blockCopy(ctx, dom, disk, to, speed, false)
}

// blockCopy is qemuDomainBlockCopyCommon's checks, then the copy job.
func (drv *Driver) blockCopy(ctx context.Context, dom Domain, disk string, to backend.CopyTarget, speed uint64, transient bool) error {
	if !filepath.IsAbs(to.Path) {
		return libxlErr(libvirt.ErrInvalidArg, "absolute path must be used as block copy target")
	}
	if speed > math.MaxInt64 {
		return libxlErr(libvirt.ErrInvalidArg, "bandwidth must be less than '%d' bytes/s (%d MiB/s)", uint64(math.MaxInt64), uint64(math.MaxInt64>>20))
	}
	return drv.startBlockJob(ctx, dom, disk, speed, true, func(d *domain, dd *libvirtxml.DomainDisk, speed uint64) (*blockJob, error) {
		if !transient && d.snap().persistent {
			return nil, libxlErr(libvirt.ErrOperationInvalid, "domain is not transient")
		}
		src := diskSource(dd)
		if to.Shallow {
			chain, err := drv.qemuImg.Chain(ctx, src)
			if err != nil {
				return nil, qemuImgErr(err)
			}
			to.Shallow = len(chain) > 1
		}
		if err := checkCopyTarget(dd.Target.Dev, &to); err != nil {
			return nil, err
		}
		if err := drv.copyFormat(ctx, dd, &to); err != nil {
			return nil, err
		}
		if to.Shallow && !to.Reuse && to.Format == "raw" {
			return nil, libxlErr(libvirt.ErrConfigUnsupported, "shallow copy of disk '%s' into a raw file is not possible", dd.Target.Dev)
		}
		bc, err := drv.diskJobs("virDomainBlockCopy")
		if err != nil {
			return nil, err
		}
		if err := bc.StartCopy(ctx, backend.DomID(d.snap().ref.ID), dd.Target.Dev, to, speed); err != nil {
			return nil, backendJobErr(err, "Failed to start the copy of disk '%s'", dd.Target.Dev)
		}
		return &blockJob{disk: dd.Target.Dev, path: src, copy: true, top: src, base: to.Path, baseFormat: to.Format,
			speed: speed, done: make(chan struct{})}, nil
	})
}

// checkCopyTarget is qemuDomainBlockCopyValidateMirror: a target that
// does not exist is made, unless reused; a block device is reused; a file
// with data is refused unless reused.
func checkCopyTarget(disk string, to *backend.CopyTarget) error {
	st, err := os.Stat(to.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && to.Reuse:
		return errSystem(err, "missing destination file for disk %s: %s", disk, to.Path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return errSystem(err, "unable to stat block copy target '%s'", to.Path)
	case st.Mode()&fs.ModeDevice != 0:
		to.Reuse = true
	case st.Size() > 0 && !to.Reuse:
		return libxlErr(libvirt.ErrConfigUnsupported, "external destination file for disk %s already exists and is not a block device: %s", disk, to.Path)
	}
	return nil
}

// copyFormat fills the target's format when not given: the disk's, or a
// reused image's as qemu-img reads it.
func (drv *Driver) copyFormat(ctx context.Context, dd *libvirtxml.DomainDisk, to *backend.CopyTarget) error {
	if to.Format != "" {
		return nil
	}
	if !to.Reuse {
		to.Format = diskFormat(dd)
		return nil
	}
	img, err := drv.qemuImg.Info(ctx, to.Path)
	if err != nil || img.Format == "" {
		return libxlErr(libvirt.ErrConfigUnsupported, "reused mirror destination format must be specified")
	}
	to.Format = img.Format
	return nil
}
