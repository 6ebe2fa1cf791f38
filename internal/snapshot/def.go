package snapshot

import (
	"strconv"

	"libvirt.org/go/libvirtxml"
)

// State is virDomainSnapshotState: the domain's state when the snapshot
// was taken (virDomainState), or DiskSnapshot for a disk-only one.
type State int

// The states, with libvirt's values.
const (
	StateNoState State = iota
	StateRunning
	StateBlocked
	StatePaused
	StateShutdown
	StateShutoff
	StateCrashed
	StatePMSuspended
	StateDiskSnapshot
)

var stateNames = []string{
	"nostate", "running", "blocked", "paused", "shutdown", "shutoff",
	"crashed", "pmsuspended", "disk-snapshot",
}

// String is the state's name in snapshot XML.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return ""
	}
	return stateNames[s]
}

func stateFromString(v string) (State, bool) {
	for i, n := range stateNames {
		if n == v {
			return State(i), true
		}
	}
	return 0, false
}

// Location is virDomainSnapshotLocation: where a disk's (or the memory's)
// snapshot is kept.
type Location int

// The locations, with libvirt's values. LocationDefault means "not said";
// AlignDisks replaces it.
const (
	LocationDefault Location = iota
	LocationNo
	LocationInternal
	LocationExternal
	LocationManual
)

var locationNames = []string{"default", "no", "internal", "external", "manual"}

// String is the location's name in XML.
func (l Location) String() string {
	if l < 0 || int(l) >= len(locationNames) {
		return ""
	}
	return locationNames[l]
}

// LocationFromString reads a location name, as a domain disk's snapshot
// attribute carries it; "" is LocationDefault.
func LocationFromString(v string) (Location, bool) {
	if v == "" {
		return LocationDefault, true
	}
	for i, n := range locationNames {
		if n == v {
			return Location(i), true
		}
	}
	return 0, false
}

// Disk is virDomainSnapshotDiskDef: what a snapshot does with one disk.
type Disk struct {
	// Name is the disk's target (or, as given, its source path until
	// AlignDisks turns it into the target).
	Name     string
	Snapshot Location
	// DeleteInProgress is <snapshotDeleteInProgress/>, which a driver
	// records while deleting an external snapshot; only a redefine
	// (and the metadata file) reads it back.
	DeleteInProgress bool
	// Type is the storage type of the new image (virStorageType):
	// "file" unless said, "block", "network", "nvme", "vhostuser" or
	// "vhostvdpa".
	Type string
	// Format is <driver type=...>, the new image's format ("qcow2");
	// "" when not said.
	Format string
	// MetadataCacheMaxSize is <driver><metadata_cache><max_size> in
	// bytes, 0 when not said.
	MetadataCacheMaxSize uint64
	// Source is the new image; nil when none is given. Its variant
	// (File, Block, Network, ...) matches Type.
	Source *libvirtxml.DomainDiskSource
}

// Path is the disk's src->path: the new image's file or device, or a
// network image's name; "" when there is none.
func (d *Disk) Path() string { return sourcePathOf(d.Source) }

// sourcePathOf is a disk source's src->path: its file or device, or a
// network image's name; "" for none.
func sourcePathOf(s *libvirtxml.DomainDiskSource) string {
	switch {
	case s == nil:
		return ""
	case s.File != nil:
		return s.File.File
	case s.Block != nil:
		return s.Block.Dev
	case s.Dir != nil:
		return s.Dir.Dir
	case s.Network != nil:
		return s.Network.Name
	}
	return ""
}

// setFile gives a file disk its new image's path.
func (d *Disk) setFile(path string) {
	if d.Source == nil {
		d.Source = &libvirtxml.DomainDiskSource{}
	}
	if d.Source.File == nil {
		d.Source.File = &libvirtxml.DomainDiskSourceFile{}
	}
	d.Source.File.File = path
}

func (d *Disk) storageType() string {
	if d.Type == "" {
		return "file"
	}
	return d.Type
}

// Def is virDomainSnapshotDef (with its virDomainMomentDef): a snapshot's
// definition as parsed, kept and formatted.
type Def struct {
	Name        string
	Description string
	// ParentName is the parent snapshot's name, "" for a root.
	ParentName string
	// CreationTime is in seconds since the epoch.
	CreationTime int64
	State        State
	// Memory says where the memory state is; MemoryFile is the file of
	// an external one.
	Memory     Location
	MemoryFile string
	Disks      []Disk
	// RevertDisks are the overlays a revert to a non-leaf external
	// snapshot created (kept in the metadata only).
	RevertDisks []Disk
	// Dom is the domain's definition when the snapshot was taken; nil
	// for an old snapshot that kept only the UUID. InactiveDom is the
	// persistent definition of a running domain, nil when it was not
	// running or had none apart from Dom.
	Dom         *libvirtxml.Domain
	InactiveDom *libvirtxml.Domain
	// Cookie is the content of <cookie>, written back as it came.
	Cookie string
}

// IsExternal is virDomainSnapshotDefIsExternal: the memory or some disk
// is saved outside the disk images.
func (d *Def) IsExternal() bool {
	if d.Memory == LocationExternal {
		return true
	}
	for _, k := range d.Disks {
		if k.Snapshot == LocationExternal {
			return true
		}
	}
	return false
}

// IsInactive: taken of a domain that was shut off (what
// VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE selects).
func (d *Def) IsInactive() bool { return d.State == StateShutoff }

// IsDiskOnly: a disk-only snapshot, without memory state
// (VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY).
func (d *Def) IsDiskOnly() bool { return d.State == StateDiskSnapshot }

// IsActive: taken of a running domain, memory included
// (VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE).
func (d *Def) IsActive() bool { return !d.IsInactive() && !d.IsDiskOnly() }

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }
