package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// A <disk type='volume'> names a volume of one of libvirt's storage pools;
// at start the storage driver says where it is, as libvirt's
// virDomainDiskTranslateSourcePool does for the QEMU driver (libvirt's
// libxl driver never calls it, and hands libxl no path for such a disk).
// The live definition keeps the pool and volume, which is all libvirt's
// live XML shows of them; the path goes only into libxl's configuration.

// volumeSource is what a volume disk resolved to: the storage type it
// actually is (virStorageSourceGetActualType: "file", "block", "dir" or,
// for iSCSI's direct mode, "network") and its path.
type volumeSource struct {
	actual string
	path   string
}

// volTypes are virStorageVolType's names, by value.
var volTypes = []string{"file", "block", "dir", "network", "netdir", "ploop"}

// translateVolumes resolves every volume disk of def, by disk index. def
// is the domain's own live copy: an iSCSI pool's disk without a mode gets
// mode='host' in it, as in libvirt.
func (drv *Driver) translateVolumes(ctx context.Context, def *libvirtxml.Domain) (map[int]volumeSource, error) {
	if def.Devices == nil {
		return nil, nil
	}
	var out map[int]volumeSource
	for i := range def.Devices.Disks {
		src := def.Devices.Disks[i].Source
		if src == nil || src.Volume == nil {
			continue
		}
		v, err := drv.translateVolume(ctx, src.Volume)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[int]volumeSource{}
		}
		out[i] = v
	}
	return out, nil
}

// translateVolume is virDomainStorageSourceTranslateSourcePool, with its
// errors.
func (drv *Driver) translateVolume(ctx context.Context, vs *libvirtxml.DomainDiskSourceVolume) (volumeSource, error) {
	sd, err := drv.storage()
	if err != nil {
		return volumeSource{}, err
	}
	pool, err := sd.StoragePoolLookupByName(ctx, vs.Pool)
	if err != nil {
		return volumeSource{}, err
	}
	if active, err := sd.StoragePoolIsActive(ctx, pool); err != nil || !active {
		if err != nil {
			return volumeSource{}, err
		}
		return volumeSource{}, virerr.New(virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"storage pool '%s' containing volume '%s' is not active", vs.Pool, vs.Volume)
	}
	vol, err := sd.StorageVolLookupByName(ctx, pool, vs.Volume)
	if err != nil {
		return volumeSource{}, err
	}
	volType, _, _, err := sd.StorageVolGetInfo(ctx, vol)
	if err != nil {
		return volumeSource{}, err
	}
	poolType, err := poolTypeOf(ctx, sd, pool)
	if err != nil {
		return volumeSource{}, err
	}
	if vs.Mode != "" && poolType != "iscsi" {
		return volumeSource{}, virerr.New(virerr.FromDomain, libvirt.ErrXMLError,
			"disk source mode is only valid when storage pool is of iscsi type")
	}
	actual, err := actualVolumeType(vs, poolType, volType)
	if err != nil || actual == "network" {
		return volumeSource{actual: actual}, err
	}
	path, err := sd.StorageVolGetPath(ctx, vol)
	if err != nil {
		return volumeSource{}, err
	}
	return volumeSource{actual: actual, path: path}, nil
}

func poolTypeOf(ctx context.Context, sd StorageDriver, pool libvirt.StoragePool) (string, error) {
	desc, err := sd.StoragePoolGetXMLDesc(ctx, pool, 0)
	if err != nil {
		return "", err
	}
	var def libvirtxml.StoragePool
	if err := def.Unmarshal(desc); err != nil {
		return "", libxlErr(libvirt.ErrInternalError, "cannot parse storage pool '%s': %v", pool.Name, err)
	}
	return def.Type, nil
}

// actualVolumeType is the storage type a volume of volType in a pool of
// poolType is used as; for an iSCSI pool vs gets its default mode.
func actualVolumeType(vs *libvirtxml.DomainDiskSourceVolume, poolType string, volType int8) (string, error) {
	switch poolType {
	case "dir", "fs", "netfs", "logical", "disk", "scsi", "zfs", "vstorage":
		switch volType {
		case 0, 5: // file, ploop
			return "file", nil
		case 1:
			return "block", nil
		case 2:
			return "dir", nil
		}
		name := "unknown"
		if int(volType) < len(volTypes) && volType >= 0 {
			name = volTypes[volType]
		}
		return "", virerr.New(virerr.FromDomain, libvirt.ErrInternalError,
			"unexpected storage volume type '%s' for storage pool type '%s'", name, poolType)
	case "iscsi":
		if vs.Mode == "" {
			vs.Mode = "host"
		}
		if vs.Mode == "host" {
			return "block", nil
		}
		return "network", nil
	case "iscsi-direct":
		return "network", nil
	}
	return "", virerr.New(virerr.FromDomain, libvirt.ErrConfigUnsupported,
		"using '%s' pools for backing 'volume' disks isn't yet supported", poolType)
}

// resolvedDisk is disk with its volume replaced by what it resolved to,
// for the translation: libxl takes a path (libxlMakeDisk's
// virDomainDiskGetSource). An iSCSI volume used directly is a network disk,
// which libxl then refuses as libvirt's does.
func resolvedDisk(disk libvirtxml.DomainDisk, v volumeSource) libvirtxml.DomainDisk {
	src := *disk.Source
	src.Volume = nil
	switch v.actual {
	case "file":
		src.File = &libvirtxml.DomainDiskSourceFile{File: v.path}
	case "block":
		src.Block = &libvirtxml.DomainDiskSourceBlock{Dev: v.path}
	case "dir":
		src.Dir = &libvirtxml.DomainDiskSourceDir{Dir: v.path}
	case "network":
		src.Network = &libvirtxml.DomainDiskSourceNetwork{Protocol: "iscsi"}
	}
	disk.Source = &src
	return disk
}
