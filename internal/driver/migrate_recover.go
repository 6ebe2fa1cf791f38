package driver

import (
	"context"
	"encoding/xml"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

// migrationInFlight is a migration under way as the status file records
// it, so that a daemon killed mid-migration settles it when it starts
// again without ever running the guest twice: a destination drops the
// guest it was receiving or holding for Finish (the source, told the
// migration failed, keeps or resumes its own); a source whose guest's
// state had not all gone resumes it; a source whose guest's state went
// cannot know whether the destination runs it, and leaves it suspended
// (paused, reason migration) for the admin, as libvirt's QEMU driver does
// (qemuProcessRecoverMigrationOut).
type migrationInFlight struct {
	XMLName xml.Name `xml:"migrating"`
	Dir     string   `xml:"dir,attr"` // "in" or "out"
	// Sent (out): the guest's state went; the guest is suspended here.
	Sent bool `xml:"sent,attr,omitempty"`
	// Paused (out): the guest was paused when it was sent.
	Paused bool `xml:"paused,attr,omitempty"`
}

// xml is the element the status file keeps, "" for none.
func (m *migrationInFlight) xml() (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := xml.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// markMigrating records m (nil: none) in d's status file.
func (drv *Driver) markMigrating(d *domain, m *migrationInFlight) error {
	d.mu.Lock()
	d.migrating = m
	d.mu.Unlock()
	return drv.saveStatusIfActive(d)
}

// recoverMigration settles the migration a killed daemon left in d's
// status file; gone says the guest was dropped.
func (drv *Driver) recoverMigration(ctx context.Context, d *domain, g backend.GuestInfo) (backend.GuestInfo, bool) {
	d.mu.Lock()
	m, name := d.migrating, d.name
	d.migrating = nil
	d.mu.Unlock()
	switch {
	case m == nil:
		return g, false
	case m.Dir == "in":
		drv.log.Warn("the daemon stopped during an incoming migration; dropping the guest", "domain", name)
		if err := drv.be.Destroy(ctx, g.DomID); err != nil && !errors.Is(err, backend.ErrNoGuest) {
			drv.log.Error("cannot destroy the guest of an interrupted incoming migration", "domain", name, "err", err)
		}
		drv.stopped(d, int32(libvirt.DomainShutoffFailed), int32(libvirt.DomainEventStoppedFailed))
		return g, true
	case m.Sent:
		drv.log.Warn("the daemon stopped after sending a guest; it stays paused here, as the destination may run it", "domain", name)
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedMigration))
		return g, false
	}
	drv.log.Warn("the daemon stopped during an outgoing migration; the guest keeps running", "domain", name)
	now, _ := drv.resumeLeftSuspended(ctx, d, g, m.Paused)
	return now, false
}
