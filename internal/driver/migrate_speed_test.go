package driver

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/time/rate"

	"virtxend/internal/virerr"
)

// TestMigrateSpeed: a domain's migration speed, unlimited until set (as
// QEMU_DOMAIN_MIG_BANDWIDTH_MAX), set on an inactive domain too, with
// libvirt's errors; a speed set while a migration runs paces it at once.
func TestMigrateSpeed(t *testing.T) {
	drv, _ := newEnv(t).start()
	g := define(t, drv, "g1", 1, "")
	if bw, err := drv.MigrateGetMaxSpeed(ctx, g, 0); err != nil || bw != 8796093022207 {
		t.Errorf("default speed %d, %v", bw, err)
	}
	if err := drv.MigrateSetMaxSpeed(ctx, g, 5, 0); err != nil {
		t.Fatal(err)
	}
	if bw, _ := drv.MigrateGetMaxSpeed(ctx, g, 0); bw != 5 {
		t.Errorf("speed %d after setting 5", bw)
	}
	for _, c := range []struct {
		bw    uint64
		flags uint32
		code  libvirt.ErrorNumber
		msg   string
	}{
		{8796093022208, 0, libvirt.ErrOverflow, "numerical overflow: bandwidth must be less than 8796093022208"},
		{1, migrateSpeedPostcopy, libvirt.ErrInvalidArg, "unsupported flags (0x1) in function libxlDomainMigrateSetMaxSpeed"},
	} {
		err := drv.MigrateSetMaxSpeed(ctx, g, c.bw, c.flags)
		if e := virerr.As(err); err == nil || e.Code != c.code || e.Error() != c.msg {
			t.Errorf("set %d flags %d: %v", c.bw, c.flags, err)
		}
	}
	if _, err := drv.MigrateGetMaxSpeed(ctx, g, migrateSpeedPostcopy); err == nil {
		t.Error("get with the post-copy flag: no error")
	}

	// A migration takes its bandwidth, or the domain's; a speed set
	// while it runs is its own at once, and stays the domain's.
	if _, err := drv.Create(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := drv.MigrateBegin(ctx, g, nil, 0); err != nil {
		t.Fatal(err)
	}
	d, _ := drv.find(g)
	out := d.migrationOut()
	d.startSpeed(out, 0)
	if bw, _ := drv.MigrateGetMaxSpeed(ctx, g, 0); bw != 5 || out.speed.lim.Limit() != 5<<20 {
		t.Errorf("a migration's speed %d (limit %v), want the domain's 5", bw, out.speed.lim.Limit())
	}
	d.startSpeed(out, 7)
	if bw, _ := drv.MigrateGetMaxSpeed(ctx, g, 0); bw != 7 {
		t.Errorf("a migration's speed %d, want its bandwidth 7", bw)
	}
	if err := drv.MigrateSetMaxSpeed(ctx, g, 0, 0); err != nil {
		t.Fatal(err)
	}
	if out.speed.lim.Limit() != rate.Inf {
		t.Errorf("after setting 0 during the migration, its limit is %v", out.speed.lim.Limit())
	}
	if err := drv.MigrateConfirm(ctx, g, nil, 0, true); err != nil {
		t.Fatal(err)
	}
	if bw, _ := drv.MigrateGetMaxSpeed(ctx, g, 0); bw != 0 {
		t.Errorf("the domain's speed %d after the migration, want 0", bw)
	}
}

// TestPacedSend: what the backend writes reaches the destination whole,
// no faster than the speed; an error of the destination ends the send.
func TestPacedSend(t *testing.T) {
	const size = 3 << 20
	data := bytes.Repeat([]byte("xen!"), size/4)
	var got bytes.Buffer
	start := time.Now()
	err := pacedSend(context.Background(), &got, newMigrationSpeed(4), func(w *os.File) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("sent %d of %d bytes: %v", got.Len(), size, err)
	}
	// Past the first chunk, 4 MiB a second.
	if took, least := time.Since(start), time.Duration(size-speedChunk)*time.Second/(4<<20); took < least {
		t.Errorf("%d bytes at 4 MiB/s in %v, under %v", size, took, least)
	}
	err = pacedSend(context.Background(), failingWriter{}, newMigrationSpeed(0), func(w *os.File) error {
		_, err := w.Write(data)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "link down") {
		t.Errorf("send to a failing destination: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("link down") }
