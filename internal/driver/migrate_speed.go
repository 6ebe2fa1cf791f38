package driver

import (
	"context"
	"io"
	"math"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/time/rate"
)

// A migration's speed, as libvirt's QEMU driver keeps it and libvirt's
// Xen driver does not: each domain has a most MiB a second its migrations
// send (virsh migrate-setspeed, migrate-getspeed), unlimited until set; a
// migration's VIR_MIGRATE_PARAM_BANDWIDTH replaces it while that
// migration runs; a speed set while a migration runs applies to it at
// once. libxl sends as fast as it can, so the guest's state goes through
// a pipe whose other end the driver copies to the destination at the
// speed (pacedSend).

// migrateSpeedMax is QEMU_DOMAIN_MIG_BANDWIDTH_MAX on a 64-bit host, the
// speed of a domain not set otherwise: no limit.
const migrateSpeedMax = math.MaxInt64 / (1 << 20)

// migrateSpeedPostcopy is VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY: a Xen
// migration has no post-copy phase, so the flag is refused.
const migrateSpeedPostcopy = uint32(libvirt.DomainMigrateMaxSpeedPostcopy)

// MigrateSetMaxSpeed is virDomainMigrateSetMaxSpeed (qemuDomainMigrateSetMaxSpeed
// without post-copy): bandwidth MiB a second for d's migrations, 0 for no
// limit, applied at once to one under way.
func (drv *Driver) MigrateSetMaxSpeed(ctx context.Context, dom Domain, bandwidth uint64, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainMigrateSetMaxSpeed"); err != nil {
		return err
	}
	d, err := drv.find(dom)
	if err != nil {
		return err
	}
	if bandwidth > migrateSpeedMax {
		return libxlErr(libvirt.ErrOverflow, "bandwidth must be less than %d", uint64(migrateSpeedMax)+1)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.migSpeed = bandwidth
	if out := d.outgoing; out != nil && out.speed != nil {
		out.speed.set(bandwidth)
	}
	return nil
}

// MigrateGetMaxSpeed is virDomainMigrateGetMaxSpeed: the speed of the
// migration under way, else the domain's.
func (drv *Driver) MigrateGetMaxSpeed(ctx context.Context, dom Domain, flags uint32) (uint64, error) {
	if err := checkFlags(flags, 0, "libxlDomainMigrateGetMaxSpeed"); err != nil {
		return 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if out := d.outgoing; out != nil && out.speed != nil {
		return out.speed.mib, nil
	}
	return d.migSpeed, nil
}

// startSpeed gives out its speed: the migration's bandwidth if it has
// one, else the domain's.
func (d *domain) startSpeed(out *outgoing, bandwidth uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if bandwidth == 0 {
		bandwidth = d.migSpeed
	}
	out.speed = newMigrationSpeed(bandwidth)
}

// migrationSpeed is the pace of one migration's data; the domain's mu
// guards mib (the limiter is safe on its own).
type migrationSpeed struct {
	lim *rate.Limiter
	mib uint64
}

// speedChunk is what the relay reads and sends at a time, and the burst
// of its pace.
const speedChunk = 256 << 10

func newMigrationSpeed(mib uint64) *migrationSpeed {
	s := &migrationSpeed{lim: rate.NewLimiter(rate.Inf, speedChunk)}
	s.set(mib)
	return s
}

func (s *migrationSpeed) set(mib uint64) {
	s.mib = mib
	if mib == 0 || mib >= migrateSpeedMax {
		s.lim.SetLimit(rate.Inf)
		return
	}
	s.lim.SetLimit(rate.Limit(mib << 20))
}

// pacedSend runs send with the write end of a pipe, whose read end it
// copies to dst at speed: what the backend writes reaches dst no faster.
// An error of the copy (dst gone, ctx done) ends the pipe, and so the
// backend's writes: it is the cause, and is returned before send's.
func pacedSend(ctx context.Context, dst io.Writer, speed *migrationSpeed, send func(*os.File) error) error {
	r, w, err := os.Pipe()
	if err != nil {
		return errSystem(err, "cannot create pipe")
	}
	copied := make(chan error, 1)
	go func() {
		err := copyPaced(ctx, dst, r, speed.lim)
		r.Close()
		copied <- err
	}()
	err = send(w)
	w.Close()
	if cerr := <-copied; cerr != nil {
		return cerr
	}
	return err
}

func copyPaced(ctx context.Context, dst io.Writer, src io.Reader, lim *rate.Limiter) error {
	buf := make([]byte, speedChunk)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if werr := lim.WaitN(ctx, n); werr != nil {
				return werr
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
