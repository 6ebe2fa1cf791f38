package driver

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/job"
	"virtxend/internal/saveimage"
	"virtxend/internal/virerr"
)

// Save and restore follow libvirt's Xen driver (libxlDoDomainSave,
// libxlDomainRestoreFlags, libxlDomainStartNew) and its image layout
// (internal/saveimage), with what its QEMU driver adds: a save is an
// asynchronous job with progress that can be aborted, a paused guest can
// be saved and comes back paused, VIR_DOMAIN_SAVE_RUNNING/_PAUSED and a
// replacement XML are honoured, and an image is complete before it counts.

const (
	saveBypassCache = uint32(libvirt.DomainSaveBypassCache)
	saveRunning     = uint32(libvirt.DomainSaveRunning)
	savePaused      = uint32(libvirt.DomainSavePaused)
	saveFlags       = saveBypassCache | saveRunning | savePaused
)

// saveInFlight is a save under way, which the status file records so that
// a daemon killed mid-save gives the guest back its state
// (recoverSave) and removes the partial image.
type saveInFlight struct {
	XMLName xml.Name `xml:"saving"`
	Path    string   `xml:"path,attr"`
	Paused  bool     `xml:"paused,attr,omitempty"`
}

// checkSaveFlags is the flags check of the save and restore calls.
func checkSaveFlags(flags uint32, fn string) error {
	if err := checkFlags(flags, saveFlags, fn); err != nil {
		return err
	}
	if flags&saveRunning != 0 && flags&savePaused != 0 {
		return virerr.InvalidArg(virerr.FromDomain, fn, "flags",
			"Flags '%s' and '%s' are mutually exclusive", "VIR_DOMAIN_SAVE_RUNNING", "VIR_DOMAIN_SAVE_PAUSED")
	}
	return nil
}

// Save saves a running or paused guest's state to the file to and stops
// it (virDomainSaveFlags; flags: VIR_DOMAIN_SAVE_BYPASS_CACHE, _RUNNING,
// _PAUSED); dxml, when set, replaces the definition stored in the image.
func (drv *Driver) Save(ctx context.Context, dom Domain, to, dxml string, flags uint32) error {
	d, err := drv.saveTarget(dom, flags, "libxlDomainSaveFlags")
	if err != nil {
		return err
	}
	return drv.saveJob(ctx, d, to, dxml, flags, false)
}

// ManagedSave saves the guest to its managed save image
// (virDomainManagedSave; flags as Save's; dxml as Save's, from
// virDomainSaveParams): its next start restores it.
func (drv *Driver) ManagedSave(ctx context.Context, dom Domain, dxml string, flags uint32) error {
	d, err := drv.saveTarget(dom, flags, "libxlDomainManagedSave")
	if err != nil {
		return err
	}
	return drv.saveJob(ctx, d, drv.managedSavePath(d.ref().Name), dxml, flags, true)
}

// saveTarget is the save calls' prologue: their flags checked (fn names
// the call in libvirt's error), then the domain found, not Domain-0.
func (drv *Driver) saveTarget(dom Domain, flags uint32, fn string) (*domain, error) {
	if err := checkSaveFlags(flags, fn); err != nil {
		return nil, err
	}
	return drv.findNonDom0(dom)
}

// beginAsync starts d's async job doing op, with beginJobOf's errors.
func (drv *Driver) beginAsync(ctx context.Context, d *domain, op job.Operation) (*job.Async, error) {
	a, err := d.job.BeginAsync(ctx, op, drv.jobWait())
	if err != nil {
		var te *job.TimeoutError
		if errors.As(err, &te) {
			return nil, errJobTimeout(te)
		}
		return nil, err
	}
	d.mu.Lock()
	removed, uuid, name := d.removed, d.uuid, d.name
	d.mu.Unlock()
	if removed {
		a.End(nil)
		return nil, errNoDomainUUID(uuid, name)
	}
	return a, nil
}

// saveJob runs a save as d's async job.
func (drv *Driver) saveJob(ctx context.Context, d *domain, path, dxml string, flags uint32, managed bool) error {
	saver, ok := drv.be.(backend.Saver)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainSave")
	}
	a, err := drv.beginAsync(ctx, d, job.OpSave)
	if err != nil {
		return err
	}
	err = drv.save(a, d, saver, path, dxml, flags, managed)
	a.End(err)
	return err
}

// save writes the image and, once it is complete, destroys the guest
// (STOPPED/SAVED). A failed or aborted save leaves the guest as it was
// and no image.
func (drv *Driver) save(a *job.Async, d *domain, saver backend.Saver, path, dxml string, flags uint32, managed bool) error {
	s := d.snap()
	if !s.active() {
		return errNotRunning()
	}
	if managed && !s.persistent {
		return libxlErr(libvirt.ErrOperationInvalid, "cannot do managed save for transient domain")
	}
	if err := noBlockJobs(d); err != nil {
		return err
	}
	text, err := drv.imageXML(s, dxml)
	if err != nil {
		return err
	}
	wasPaused := s.state == libvirt.DomainPaused
	state := saveimage.StateRunning
	if flags&savePaused != 0 || (flags&saveRunning == 0 && wasPaused) {
		state = saveimage.StatePaused
	}
	// The status file names the image before it exists, so that a kill
	// at any moment leaves nothing a restarted daemon does not clean.
	if err := drv.markSaving(d, &saveInFlight{Path: path, Paused: wasPaused}); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		drv.markSaving(d, nil)
		return errSystem(err, "Failed to create domain save file '%s'", path)
	}
	defer f.Close()
	w, err := saveimage.Begin(f, text, state)
	if err == nil {
		err = saver.Save(a.Context(), backend.DomID(s.ref.ID), f, drv.progressOf(a))
	}
	// From here the guest is suspended: a failure gives it back its run.
	suspended := err == nil
	if err == nil {
		err = w.Commit()
	}
	if err == nil && flags&saveBypassCache != 0 {
		dropCache(f)
	}
	if err == nil {
		drv.announceCompleted(d, a)
		err = drv.saved(a, d)
	}
	if err != nil {
		if suspended && d.snap().active() {
			if rerr := drv.resumeGuest(context.WithoutCancel(a.Context()), backend.DomID(s.ref.ID), wasPaused); rerr != nil {
				drv.log.Error("cannot resume the guest of a failed save", "domain", s.ref.Name, "err", rerr)
			}
		}
		drv.markSaving(d, nil)
		removePartial(path)
		return drv.jobFailed(a, err, "domain save", "Failed to save domain '%d' with libxenlight", s.ref.ID)
	}
	return nil
}

// saved ends a complete save: the guest is destroyed and the domain
// stopped with reason saved, in a nested step of the job. Until the guest
// is gone the status file keeps the save in flight: a daemon killed
// before then finds the guest and drops the image (recoverSave), one
// killed after finds it gone and keeps the image.
func (drv *Driver) saved(a *job.Async, d *domain) error {
	return drv.destroyInStep(a, d, guestEnd{
		reason:     int32(libvirt.DomainShutoffSaved),
		detail:     int32(libvirt.DomainEventStoppedSaved),
		ifStopped:  errNotRunning(),
		vanishedOK: true,
	})
}

// guestEnd is how an async job's last step stops its domain: the shutoff
// reason and STOPPED event detail; what the step returns when the guest
// stopped by itself before it; and whether a guest that vanished under
// Destroy (backend.ErrNoGuest) counts as destroyed.
type guestEnd struct {
	reason, detail int32
	ifStopped      error
	vanishedOK     bool
}

// destroyInStep destroys d's guest and marks the domain stopped as end
// says, in a nested step of a's job, so that no other call on the domain
// comes between the two. The destroy is not cancelled by an abort of the
// job: the job's work is done by then.
func (drv *Driver) destroyInStep(a *job.Async, d *domain, end guestEnd) error {
	if err := a.Begin(drv.jobWait()); err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if !s.active() {
		return end.ifStopped
	}
	err := drv.be.Destroy(context.WithoutCancel(a.Context()), backend.DomID(s.ref.ID))
	if err != nil && !(end.vanishedOK && errors.Is(err, backend.ErrNoGuest)) {
		return libxlFailed(err, "Failed to destroy domain '%d'", s.ref.ID)
	}
	// With the guest gone no save is in flight (nil already but for a
	// save's last step).
	d.mu.Lock()
	d.saving = nil
	d.mu.Unlock()
	drv.stopped(d, end.reason, end.detail)
	return nil
}

// imageXML is the definition a save stores: the live one, or dxml when
// given, which must keep the domain's identity (libvirt's ABI check).
func (drv *Driver) imageXML(s snapshot, dxml string) (string, error) {
	def := s.def.parsed()
	if dxml != "" {
		repl, uuid, err := parseDef(dxml, false)
		if err != nil {
			return "", err
		}
		if err := checkABI(s.def.parsed(), s.ref.UUID, repl, uuid); err != nil {
			return "", err
		}
		def = repl
	}
	return formatDef(def, -1, domxml.FormatSecure)
}

// markSaving records the save in flight in the status file (nil: none).
func (drv *Driver) markSaving(d *domain, sv *saveInFlight) error {
	d.mu.Lock()
	d.saving = sv
	d.mu.Unlock()
	return drv.saveStatusIfActive(d)
}

// progressOf reports a backend's progress as the job's: the stream is
// the guest's memory, so data and memory counters are the same.
func (drv *Driver) progressOf(a *job.Async) backend.Progress {
	return func(done, total uint64) {
		a.Update(true, func(p *job.Progress) {
			p.DataTotal, p.DataProcessed, p.DataRemaining = total, done, total-min(done, total)
			p.MemTotal, p.MemProcessed, p.MemRemaining = total, done, total-min(done, total)
		})
	}
}

// jobFailed is the error of an async job step that failed with err: the
// abort's when the job was aborted (QEMU's text; libvirt's Xen driver has
// no abort), else libvirt's failure text.
func (drv *Driver) jobFailed(a *job.Async, err error, name, format string, args ...any) error {
	if errors.Is(context.Cause(a.Context()), job.ErrAborted) {
		return virerr.New(virerr.FromDomain, libvirt.ErrOperationAborted, "job '%s' canceled by client", name)
	}
	var ve *virerr.Error
	if errors.As(err, &ve) {
		return err
	}
	drv.log.Error("job failed", "job", name, "err", err)
	return libxlFailed(err, format, args...)
}

// removePartial removes what a failed save or dump left at path: a
// regular file only, not the fifo or device a client asked to write to.
func removePartial(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		os.Remove(path)
	}
}

// xml is the element the status file keeps, "" for none.
func (sv *saveInFlight) xml() (string, error) {
	if sv == nil {
		return "", nil
	}
	b, err := xml.Marshal(sv)
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// recoverSave, when the daemon reconnects to a guest whose status file
// has a save in flight (the daemon was killed mid-save): the guest still
// exists, so the save did not happen. The image goes, complete or not
// (restoring it later would fork the guest from its running self), and a
// guest the backend left suspended for the save is resumed, and paused
// again if it was. A guest that is gone was saved: reconnect reports it
// stopped and its image stays. The caller writes the status file.
func (drv *Driver) recoverSave(ctx context.Context, d *domain, g backend.GuestInfo) backend.GuestInfo {
	d.mu.Lock()
	sv, name := d.saving, d.name
	d.saving = nil
	d.mu.Unlock()
	if sv == nil {
		return g
	}
	drv.log.Warn("the daemon stopped during a save; the guest keeps running", "domain", name, "image", sv.Path)
	removePartial(sv.Path)
	now, resumed := drv.resumeLeftSuspended(ctx, d, g, sv.Paused)
	if resumed && !sv.Paused {
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningSaveCanceled))
	}
	return now
}

// resumeGuest continues a guest that a save or a migration's send left
// suspended (backend.Migrator's Resume), paused again if it was.
func (drv *Driver) resumeGuest(ctx context.Context, id backend.DomID, paused bool) error {
	m, ok := drv.be.(backend.Migrator)
	if !ok {
		return fmt.Errorf("%w: resume a suspended guest", backend.ErrUnsupported)
	}
	if err := m.Resume(ctx, id); err != nil {
		return err
	}
	if paused {
		if err := drv.be.Pause(ctx, id); err != nil {
			drv.log.Warn("cannot pause the resumed guest again", "domid", id, "err", err)
		}
	}
	return nil
}

// resumeLeftSuspended is resumeGuest at reconnect, for a guest a killed
// daemon's save or send left suspended: g as it is then, and whether it
// was resumed (a paused one takes the paused state).
func (drv *Driver) resumeLeftSuspended(ctx context.Context, d *domain, g backend.GuestInfo, paused bool) (backend.GuestInfo, bool) {
	if g.State != backend.StateShutdown || g.ShutdownReason != backend.ReasonSuspend {
		return g, false
	}
	if err := drv.resumeGuest(ctx, g.DomID, paused); err != nil {
		drv.log.Error("cannot resume the guest the daemon left suspended", "domain", d.ref().Name, "err", err)
		return g, false
	}
	if paused {
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUser))
	}
	if now, err := drv.be.Guest(ctx, g.DomID); err == nil {
		return now, true
	}
	return g, true
}
