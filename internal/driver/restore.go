package driver

import (
	"context"
	"errors"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/saveimage"
	"virtxend/internal/virerr"
)

// image is a save image opened for a restore: its header and definition
// read, the file at the hypervisor's stream.
type image struct {
	f    *os.File
	hdr  saveimage.Header
	def  *libvirtxml.Domain
	uuid backend.UUID
	// paused: the guest comes back paused.
	paused bool
	// migrated: the image is an incoming migration's data.
	migrated bool
	// fromSnapshot: the guest starts as a revert to a snapshot has it,
	// from the snapshot's memory when f is set, else booted afresh.
	fromSnapshot bool
}

// restores says whether a start from img restores a guest's memory.
func (img *image) restores() bool { return img != nil && img.f != nil }

// startedDetail is the detail of the STARTED event of a guest booted from
// img (nil: booted afresh).
func (img *image) startedDetail() libvirt.DomainEventStartedDetailType {
	switch {
	case img == nil:
		return libvirt.DomainEventStartedBooted
	case img.fromSnapshot:
		return libvirt.DomainEventStartedFromSnapshot
	case img.migrated:
		return libvirt.DomainEventStartedMigrated
	}
	return libvirt.DomainEventStartedRestored
}

// pausedReason is the reason of a guest booted paused from img: an
// incoming migration's guest waits for its Finish.
func (img *image) pausedReason() int32 {
	if img != nil && img.migrated {
		return int32(libvirt.DomainPausedMigration)
	}
	if img.restores() && img.fromSnapshot {
		return int32(libvirt.DomainPausedFromSnapshot)
	}
	return int32(libvirt.DomainPausedUser)
}

// openImage opens and checks the image at path (libxlDomainSaveImageOpen).
func openImage(path string) (*image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errSystem(err, "Failed to open domain image file '%s'", path)
	}
	hdr, text, err := saveimage.Read(f)
	if err != nil {
		f.Close()
		code := libvirt.ErrOperationFailed
		if errors.Is(err, saveimage.ErrMagic) {
			code = libvirt.ErrInvalidArg
		}
		return nil, virerr.Wrap(err, virerr.FromLibxl, code, "%s", err.Error())
	}
	def, uuid, err := parseDef(text, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &image{f: f, hdr: hdr, def: def, uuid: uuid, paused: hdr.State == saveimage.StatePaused}, nil
}

func (img *image) Close() error { return img.f.Close() }

// honour applies the restore flags to the state the image recorded.
func (img *image) honour(flags uint32) {
	switch {
	case flags&savePaused != 0:
		img.paused = true
	case flags&saveRunning != 0:
		img.paused = false
	}
}

// replaceDef gives the restored guest dxml instead of the image's
// definition; it must name the same domain.
func (img *image) replaceDef(dxml string) error {
	if dxml == "" {
		return nil
	}
	repl, uuid, err := parseDef(dxml, false)
	if err != nil {
		return err
	}
	if repl.Name != img.def.Name {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain name '%s' does not match source '%s'", repl.Name, img.def.Name)
	}
	if uuid != img.uuid {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain uuid %s does not match source %s", uuid, img.uuid)
	}
	img.def = repl
	return nil
}

// Restore starts the guest saved in the image from (virDomainRestoreFlags;
// flags: VIR_DOMAIN_SAVE_BYPASS_CACHE, _RUNNING, _PAUSED); dxml, when set,
// replaces the image's definition. A defined domain of that name and uuid
// takes the image's definition as its live one; otherwise a transient
// domain is made.
func (drv *Driver) Restore(ctx context.Context, from, dxml string, flags uint32) error {
	if err := checkSaveFlags(flags, "libxlDomainRestoreFlags"); err != nil {
		return err
	}
	img, err := openImage(from)
	if err != nil {
		return err
	}
	defer img.Close()
	if err := img.replaceDef(dxml); err != nil {
		return err
	}
	img.honour(flags)
	d, created, err := drv.addOrFind(ctx, img.def, img.uuid)
	if err != nil {
		return err
	}
	if !created {
		if err := drv.adoptLiveDef(ctx, d, img.def); err != nil {
			return err
		}
	}
	defer drv.awaitConsoles(ctx, d)
	defer drv.endJob(d)
	if err := drv.boot(ctx, d, img.paused, img); err != nil {
		if !d.snap().persistent {
			drv.remove(d)
		}
		return err
	}
	if flags&saveBypassCache != 0 {
		dropCache(img.f)
	}
	return nil
}

// managedImage opens d's managed save image for its start, checking that
// it is d's (libxlDomainStartNew). An incomplete image (a crash mid-save)
// is dropped and the guest boots afresh, as libvirt's QEMU driver does;
// nil means boot.
func (drv *Driver) managedImage(d *domain) (*image, error) {
	s := d.snap()
	path := drv.managedSavePath(s.ref.Name)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	img, err := openImage(path)
	if err != nil {
		if errors.Is(err, saveimage.ErrIncomplete) {
			drv.log.Warn("Ignoring incomplete managed state", "path", path)
			os.Remove(path)
			return nil, nil
		}
		return nil, err
	}
	if img.def.Name != s.ref.Name || img.uuid != backend.UUID(s.ref.UUID) {
		img.Close()
		return nil, libxlErr(libvirt.ErrOperationFailed,
			"cannot restore domain '%s' uuid %s from a file which belongs to domain '%s' uuid %s",
			s.ref.Name, backend.UUID(s.ref.UUID), img.def.Name, img.uuid)
	}
	return img, nil
}

// dropStaleManagedSave removes the managed save image of a guest found
// running: a start restored it and was killed before removing it (a save
// that did not finish is recoverSave's).
func (drv *Driver) dropStaleManagedSave(d *domain) {
	name := d.ref().Name
	if !drv.hasManagedSave(name) {
		return
	}
	drv.log.Warn("removing the managed save image of a running guest", "domain", name)
	removePartial(drv.managedSavePath(name))
}

// useImageDef makes the image's definition d's live one (the persistent
// one stays), as virDomainObjAssignDef does for a restore.
func (drv *Driver) useImageDef(d *domain, img *image) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.persistent && d.newDef == nil {
		d.newDef = d.def
	}
	d.def = liveDef(img.def)
}

// ManagedSaveRemove deletes the managed save image (virDomainManagedSaveRemove).
func (drv *Driver) ManagedSaveRemove(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainManagedSaveRemove"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	return drv.removeManagedSave(d)
}

// removeManagedSave deletes d's managed save image, if any.
func (drv *Driver) removeManagedSave(d *domain) error {
	path := drv.managedSavePath(d.ref().Name)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return errSystem(err, "Failed to remove managed save file '%s'", path)
	}
	return nil
}

// SaveImageXML is the definition in the image at path
// (virDomainSaveImageGetXMLDesc; flags: VIR_DOMAIN_SAVE_IMAGE_XML_SECURE).
func (drv *Driver) SaveImageXML(ctx context.Context, path string, flags uint32) (string, error) {
	if err := checkFlags(flags, uint32(libvirt.DomainSaveImageXMLSecure), "libxlDomainSaveImageGetXMLDesc"); err != nil {
		return "", err
	}
	img, err := openImage(path)
	if err != nil {
		return "", err
	}
	img.Close()
	ff := domxml.FormatInactive
	if flags&uint32(libvirt.DomainSaveImageXMLSecure) != 0 {
		ff |= domxml.FormatSecure
	}
	return formatDef(img.def, -1, ff)
}

// SaveImageDefine replaces the definition in the image at path
// (virDomainSaveImageDefineXML; flags: VIR_DOMAIN_SAVE_RUNNING, _PAUSED
// change the state it restores to).
func (drv *Driver) SaveImageDefine(ctx context.Context, path, dxml string, flags uint32) error {
	if err := checkFlags(flags, saveRunning|savePaused, "libxlDomainSaveImageDefineXML"); err != nil {
		return err
	}
	if err := checkSaveFlags(flags, "libxlDomainSaveImageDefineXML"); err != nil {
		return err
	}
	img, err := openImage(path)
	if err != nil {
		return err
	}
	img.Close()
	if err := img.replaceDef(dxml); err != nil {
		return err
	}
	img.honour(flags)
	text, err := formatDef(img.def, -1, domxml.FormatSecure)
	if err != nil {
		return err
	}
	state := saveimage.StateRunning
	if img.paused {
		state = saveimage.StatePaused
	}
	if err := saveimage.Replace(path, text, state); err != nil {
		return errSystem(err, "failed to write header to domain save file '%s'", path)
	}
	return nil
}

// ManagedSaveXML and ManagedSaveDefine are SaveImageXML and
// SaveImageDefine on the domain's managed save image
// (virDomainManagedSaveGetXMLDesc, virDomainManagedSaveDefineXML).
func (drv *Driver) ManagedSaveXML(ctx context.Context, dom Domain, flags uint32) (string, error) {
	path, err := drv.managedImagePath(dom)
	if err != nil {
		return "", err
	}
	return drv.SaveImageXML(ctx, path, flags)
}

func (drv *Driver) ManagedSaveDefine(ctx context.Context, dom Domain, dxml string, flags uint32) error {
	path, err := drv.managedImagePath(dom)
	if err != nil {
		return err
	}
	return drv.SaveImageDefine(ctx, path, dxml, flags)
}

func (drv *Driver) managedImagePath(dom Domain) (string, error) {
	d, err := drv.find(dom)
	if err != nil {
		return "", err
	}
	path := drv.managedSavePath(d.ref().Name)
	if _, err := os.Stat(path); err != nil {
		return "", domainErr(libvirt.ErrOperationInvalid, "domain does not have managed save image")
	}
	return path, nil
}
