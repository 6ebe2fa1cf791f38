package driver

import (
	"context"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/job"
)

// consoleFollowWait bounds how long a console session whose pty hung up
// waits for the guest's next boot: the driver handles the guest's reboot
// (destroying it and creating it again) within it, or the console daemon
// gives the guest a new pty.
const consoleFollowWait = time.Minute

// followConsole makes session c, just opened on d's console devName in
// the boot of id, follow the guest to its next boots.
func (drv *Driver) followConsole(c *Console, d *domain, devName *string, id int32) {
	c.follow = func(path string, done <-chan struct{}) string {
		next, nextID := drv.nextConsolePTY(d, devName, id, path, done)
		if next != "" {
			id = nextID
		}
		return next
	}
}

// nextConsolePTY waits, for a console session on d's device devName whose
// pty (path, in the boot of id) hung up, until the guest has a new pty for
// it: it booted again (a reboot or reset is a new domain on Xen, whose
// console comes once the start recorded it) or its console daemon
// restarted. It returns that pty and the boot's id; "" when the guest
// stopped for good, the session ended (done) or consoleFollowWait passed.
func (drv *Driver) nextConsolePTY(d *domain, devName *string, id int32, path string, done <-chan struct{}) (string, int32) {
	ctx, cancel := context.WithTimeout(context.Background(), consoleFollowWait)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-drv.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		// A restart holds the domain's job from the old domain's end to
		// the new one's start: once the job is free, the guest has either
		// come back or stopped.
		if drv.beginJobOf(ctx, d, job.Query) != nil {
			return "", 0
		}
		s := d.snap()
		drv.endJob(d)
		if !s.active() || s.state == libvirt.DomainShutoff {
			return "", 0 // stopped, or shut down and preserved
		}
		if s.ref.ID != id {
			drv.awaitConsoles(ctx, d)
			return consolePTY(d, devName), s.ref.ID
		}
		// Still the same boot: its shutdown is not handled yet, or its
		// console daemon restarted.
		drv.refreshConsoles(d, false)
		if p := consolePTY(d, devName); p != "" && p != path {
			return p, id
		}
		select {
		case <-ctx.Done():
			return "", 0
		case <-time.After(consolePoll):
		}
	}
}

// consolePTY is the pty the running d's console devName is recorded on
// ("" if none).
func consolePTY(d *domain, devName *string) string {
	src, _, found := consoleChardev(d.snap().def.parsed(), devName)
	if !found || src == nil || src.Pty == nil {
		return ""
	}
	return src.Pty.Path
}
