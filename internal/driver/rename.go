package driver

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
	"virtxend/internal/store"
)

// Rename is virDomainRename (virsh domrename, virt-manager's rename of a
// shut-off guest), which libvirt's libxl driver lacks, as libvirt's QEMU
// driver renames (qemuDomainRename, virDomainObjListRename): a persistent
// domain that is shut off, without a managed save image, takes a name no
// other domain has; its config and autostart link move to the new name;
// UNDEFINED/RENAMED follows for the old name, DEFINED/RENAMED for the new.
//
// Deliberate differences: a domain with snapshots is refused, as libvirt
// did before 6.0 (its snapshots' metadata is kept under its name), and so
// is a name with a newline, which libvirt takes but then cannot load from
// the config at its next start.
//
// A kill during the rename leaves it done or not done (moveConfig).
func (drv *Driver) Rename(ctx context.Context, dom Domain, newName string, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainRename"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	switch {
	case s.active():
		return libxlErr(libvirt.ErrOperationInvalid, "cannot rename active domain")
	case !s.persistent:
		return libxlErr(libvirt.ErrOperationInvalid, "cannot rename a transient domain")
	case drv.hasManagedSave(s.ref.Name):
		return libxlErr(libvirt.ErrOperationInvalid, "domain with a managed saved state can't be renamed")
	case d.snapshotCount() > 0:
		return libxlErr(libvirt.ErrOperationInvalid, "cannot rename domain with snapshots")
	case s.ref.Name == newName:
		return domainErr(libvirt.ErrOperationInvalid, "Can't rename domain to itself")
	case strings.ContainsRune(newName, '/'):
		return libxlErr(libvirt.ErrXMLError, "name %s cannot contain '/'", newName)
	}
	if err := checkNameNewline(newName); err != nil {
		return err
	}
	if err := drv.claimName(d, newName); err != nil {
		return err
	}
	if err := drv.moveConfig(d, s, newName); err != nil {
		drv.releaseName(newName, d)
		return err
	}
	return nil
}

// claimName reserves name for d in the name index, as
// virDomainObjListRename adds the new name before the rename is made.
func (drv *Driver) claimName(d *domain, name string) error {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if drv.byName[name] != nil {
		return domainErr(libvirt.ErrOperationInvalid, "domain with name '%s' already exists", name)
	}
	drv.byName[name] = d
	return nil
}

// releaseName gives back a name claimName reserved for d.
func (drv *Driver) releaseName(name string, d *domain) {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if drv.byName[name] == d {
		delete(drv.byName, name)
	}
}

// moveConfig writes the shut-off domain's config under newName, with its
// autostart link, then removes the old config and link, and switches the
// domain to the new name. The new link comes first: a kill then leaves a
// link to no config, which the next start removes; a kill after the new
// config leaves both configs, of which the next start keeps the newer
// (keepNewerConfig); a kill after the old config leaves its link, which
// the next start removes. So the rename is done or not done.
func (drv *Driver) moveConfig(d *domain, s snapshot, newName string) error {
	def := domxml.Copy(s.def.parsed())
	if def == nil {
		return libxlErr(libvirt.ErrInternalError, "cannot copy the definition of '%s'", s.ref.Name)
	}
	def.Name = newName
	path, link := drv.configPath(newName), drv.autostartPath(newName)
	if s.autostart {
		if err := store.Symlink(path, link); err != nil {
			return errSystem(err, "Failed to create symlink '%s' to '%s'", link, path)
		}
	}
	undo := func() {
		if s.autostart {
			drv.removeQuietly(link)
		}
	}
	saved, err := drv.writeConfig(def)
	if err != nil {
		undo()
		return err
	}
	if err := drv.deleteConfig(s.ref.Name); err != nil {
		undo()
		drv.removeQuietly(path)
		return err
	}
	ref := drv.renamed(d, newName, saved)
	drv.emit(s.ref, libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRenamed))
	drv.emit(ref, libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedRenamed))
	return nil
}

// renamed switches d to newName and its saved definition.
func (drv *Driver) renamed(d *domain, newName string, saved *definition) Domain {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(drv.byName, d.name)
	drv.byName[newName] = d
	d.name, d.def = newName, saved
	drv.invalidateList()
	return d.refLocked()
}

// removeQuietly undoes a step of a failed rename, logging what it cannot.
func (drv *Driver) removeQuietly(path string) {
	if err := store.Remove(path); err != nil {
		drv.log.Warn("cannot undo a failed rename", "path", path, "err", err)
	}
}
