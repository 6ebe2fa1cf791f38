package driver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/store"
)

// A domain's snapshots: the tree in memory (d.snaps, guarded by d.mu,
// changed only under the domain's job) and a metadata file per snapshot
// in SnapshotDir/<domain>/<snapshot>.xml, libvirt's own format with
// <active>1</active> on the current one, written atomically. A new
// current snapshot is written after the old one loses the mark, so that
// a kill between the two leaves none current rather than two.

// snapshotDirOf is the directory of a domain's snapshot metadata.
func (drv *Driver) snapshotDirOf(dom string) string {
	return filepath.Join(drv.paths.SnapshotDir(), dom)
}

// writeSnapshotMeta writes one snapshot's metadata file.
func (drv *Driver) writeSnapshotMeta(d *domain, obj *dsnap.Snapshot, current bool) error {
	ref := d.ref()
	dom, uuid := ref.Name, backend.UUID(ref.UUID).String()
	text, err := dsnap.FormatMetadata(obj.Def, string(uuid), current)
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "unable to save metadata for snapshot %s", obj.Def.Name)
	}
	dir := drv.snapshotDirOf(dom)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return errSystem(err, "cannot create snapshot directory '%s'", dir)
	}
	if err := store.WriteFile(filepath.Join(dir, obj.Def.Name+".xml"), []byte(text), 0o600); err != nil {
		return libxlErr(libvirt.ErrInternalError, "unable to save metadata for snapshot %s", obj.Def.Name)
	}
	return nil
}

// snapshotsLocked is d's snapshot tree, made on first use: most domains
// never have a snapshot, and an empty tree each is 80 bytes of every
// defined domain's. The caller holds d.mu.
func (d *domain) snapshotsLocked() *dsnap.Tree {
	if d.snaps == nil {
		d.snaps = dsnap.NewTree()
	}
	return d.snaps
}

// currentSnapshot is d's current snapshot, nil for none.
func (drv *Driver) currentSnapshot(d *domain) *dsnap.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshotsLocked().Current()
}

// assignSnapshot puts a snapshot about to be taken in d's tree, child
// of the current one (virDomainSnapshotAssignDef); dropSnapshot takes it
// out again if it fails.
func (drv *Driver) assignSnapshot(d *domain, def *dsnap.Def) (*dsnap.Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tree := d.snapshotsLocked()
	if cur := tree.Current(); cur != nil {
		def.ParentName = cur.Def.Name
	}
	return tree.Add(def)
}

func (drv *Driver) dropSnapshot(d *domain, obj *dsnap.Snapshot) {
	d.mu.Lock()
	d.snapshotsLocked().Remove(obj)
	d.mu.Unlock()
}

// linkSnapshot makes a taken snapshot current, writes it and links it to
// its parent (qemuSnapshotCreateWriteMetadata).
func (drv *Driver) linkSnapshot(d *domain, obj *dsnap.Snapshot) error {
	if err := drv.makeCurrent(d, obj); err != nil {
		drv.dropSnapshot(d, obj)
		return err
	}
	return nil
}

// makeCurrent makes obj d's current snapshot and writes its metadata,
// after the old current one's (qemuSnapshotSetCurrent).
func (drv *Driver) makeCurrent(d *domain, obj *dsnap.Snapshot) error {
	d.mu.Lock()
	tree := d.snapshotsLocked()
	old := tree.Current()
	tree.SetCurrent(obj)
	d.mu.Unlock()
	if old != nil && old != obj {
		if err := drv.writeSnapshotMeta(d, old, false); err != nil {
			drv.log.Warn("failed to update old current snapshot", "snapshot", old.Def.Name, "err", err)
		}
	}
	return drv.writeSnapshotMeta(d, obj, true)
}

// removeSnapshotMeta removes one snapshot's metadata file.
func (drv *Driver) removeSnapshotMeta(dom, snap string) {
	path := filepath.Join(drv.snapshotDirOf(dom), snap+".xml")
	if err := store.Remove(path); err != nil {
		drv.log.Warn("Failed to unlink snapshot metadata", "path", path, "err", err)
	}
}

// dropSnapshotMetadata forgets all of d's snapshots, their files and the
// memory images of internal ones (qemuSnapshotDiscardAllMetadata).
func (drv *Driver) dropSnapshotMetadata(d *domain) error {
	d.mu.Lock()
	name := d.name
	d.snaps = nil // made again on its next use
	d.mu.Unlock()
	if err := os.RemoveAll(drv.snapshotDirOf(name)); err != nil {
		return errSystem(err, "cannot remove snapshot metadata of domain '%s'", name)
	}
	return nil
}

// snapshotCount is how many snapshots d has.
func (d *domain) snapshotCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.snaps == nil { // not made for the count, which list filters ask of every domain
		return 0
	}
	return d.snaps.Len()
}

// loadAllSnapshots loads the snapshots of every domain that has a
// metadata directory (one listing, not a lookup per domain).
func (drv *Driver) loadAllSnapshots() {
	entries, err := os.ReadDir(drv.paths.SnapshotDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		drv.mu.RLock()
		d := drv.byName[e.Name()]
		drv.mu.RUnlock()
		if d == nil {
			drv.dropOrphanSnapshots(e.Name())
			continue
		}
		drv.loadSnapshots(d)
	}
}

// dropOrphanSnapshots removes the snapshot directory of a domain that has
// neither a config nor a status file: a domain ends with the removal of
// the one it had, and its metadata goes after that, so a kill between
// leaves this directory. Kept, it would be loaded as the snapshots of the
// next domain given the name, at the next start. A directory beside a
// file the daemon could not load is kept, with a warning.
func (drv *Driver) dropOrphanSnapshots(name string) {
	dir := drv.snapshotDirOf(name)
	for _, f := range []string{drv.configPath(name), drv.statusPath(name)} {
		if _, err := os.Lstat(f); !errors.Is(err, fs.ErrNotExist) {
			drv.log.Warn("snapshot metadata of an unknown domain", "domain", name, "beside", f)
			return
		}
	}
	drv.log.Info("removing the snapshot metadata of a domain that is gone", "domain", name, "dir", dir)
	if err := os.RemoveAll(dir); err != nil {
		drv.log.Warn("cannot remove snapshot metadata", "dir", dir, "err", err)
	}
}

// loadSnapshots reads d's snapshot metadata at start
// (qemuDomainSnapshotLoad): files that do not parse are skipped with a
// warning, a stray temporary is removed, and if more than one claims to
// be current none is.
func (drv *Driver) loadSnapshots(d *domain) {
	name := d.ref().Name
	dir := drv.snapshotDirOf(name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	tree := dsnap.NewTree()
	var current []*dsnap.Snapshot
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if !strings.HasSuffix(e.Name(), ".xml") {
			if store.IsTemp(e.Name()) {
				os.Remove(path)
			}
			continue
		}
		obj, cur, err := loadSnapshot(tree, path)
		if err != nil {
			drv.log.Error("Failed to parse snapshot XML from file", "path", path, "err", err)
			continue
		}
		if cur {
			current = append(current, obj)
		}
	}
	if len(current) == 1 {
		tree.SetCurrent(current[0])
	} else if len(current) > 1 {
		drv.log.Error("Too many snapshots claiming to be current for domain", "domain", name)
	}
	if err := tree.UpdateRelations(); err != nil {
		drv.log.Error("Snapshots have inconsistent relations for domain", "domain", name, "err", err)
	}
	drv.dropOrphanMemory(dir, tree)
	d.mu.Lock()
	d.snaps = tree
	d.mu.Unlock()
}

// dropOrphanMemory removes the memory image of an internal snapshot that
// has no metadata: a daemon killed between taking it and writing it.
func (drv *Driver) dropOrphanMemory(dir string, tree *dsnap.Tree) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".save"); ok && tree.Lookup(name) == nil {
			drv.log.Warn("removing the memory image of a snapshot that was never recorded", "path", filepath.Join(dir, e.Name()))
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func loadSnapshot(tree *dsnap.Tree, path string) (*dsnap.Snapshot, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	def, current, err := dsnap.ParseMetadata(string(b), dsnap.Options{})
	if err != nil {
		return nil, false, err
	}
	obj, err := tree.Add(def)
	return obj, current, err
}

// checkUndefineSnapshots is qemuDomainUndefineFlags' rule: an inactive
// domain with snapshots is undefined only with
// VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA. Their metadata (not the images)
// goes with the domain (remove), after its config: libvirt drops it
// first, and a kill between would leave the domain defined without its
// snapshots, or some of them.
func (drv *Driver) checkUndefineSnapshots(d *domain, s snapshot, flags uint32) error {
	n := d.snapshotCount()
	if s.active() || n == 0 || flags&uint32(libvirt.DomainUndefineSnapshotsMetadata) != 0 {
		return nil
	}
	return libxlErr(libvirt.ErrOperationInvalid, "cannot delete inactive domain with %d snapshots", n)
}
