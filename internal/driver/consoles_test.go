package driver

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
)

// ptyHost is the simulated host with consoles on ptys that appear only on
// the third question, as xenconsoled's do a moment after the start.
type ptyHost struct {
	*sim.Host
	asked atomic.Int32
}

func (h *ptyHost) ConsoleTTY(_ context.Context, id backend.DomID, port int, serial bool) (string, error) {
	if h.asked.Add(1) < 3 {
		return "", fmt.Errorf("no tty yet")
	}
	kind := "pv"
	if serial {
		kind = "serial"
	}
	return fmt.Sprintf("/dev/pts/%d-%s%d", id, kind, port), nil
}

func TestConsolePtysRecorded(t *testing.T) {
	e := newEnv(t)
	h := &ptyHost{Host: e.sim()}
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	d := define(t, drv, "con", 1, `<devices><serial type='pty'/></devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	con := fmt.Sprintf("/dev/pts/%d-pv0", started.ID)
	ser := fmt.Sprintf("/dev/pts/%d-serial0", started.ID)
	var live string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if live, _ = drv.GetXMLDesc(ctx, d, 0); strings.Contains(live, ser) {
			break
		}
	}
	for _, want := range []string{"<console type='pty' tty='" + con + "'>", "<source path='" + con + "'/>", "<source path='" + ser + "'/>"} {
		if !strings.Contains(live, want) {
			t.Fatalf("live XML lacks %q:\n%s", want, live)
		}
	}
	// The status file follows the live definition.
	var status []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if status, err = os.ReadFile(drv.statusPath("con")); err == nil && strings.Contains(string(status), con) {
			break
		}
	}
	if !strings.Contains(string(status), con) {
		t.Errorf("status file lacks the console pty (%v):\n%s", err, status)
	}
	if inactive, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive)); strings.Contains(inactive, "/dev/pts") {
		t.Errorf("inactive XML shows a pty:\n%s", inactive)
	}
	// A restarted daemon reads the ptys back from the status file.
	drv.Close()
	drv2, err := New(e.cfg, e.root, e.sim(), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer drv2.Close()
	if again, _ := drv2.GetXMLDesc(ctx, d, 0); !strings.Contains(again, "<console type='pty' tty='"+con+"'>") {
		t.Errorf("after a restart the live XML lost the console pty:\n%s", again)
	}
}
