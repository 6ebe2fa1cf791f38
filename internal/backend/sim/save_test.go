package sim

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
)

// startGuest creates a running 64 MiB guest whose save writes at rate
// MiB of guest memory per second.
func startGuest(t *testing.T, h *Host, name string, uuid byte, rate string) backend.DomID {
	t.Helper()
	meta := `<s:fault xmlns:s="urn:virtxend:sim" save-rate="` + rate + `"/>`
	id, err := h.Create(context.Background(), backendtest.Config(name, uuid, 64*1024, 2), backend.CreateOptions{Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func info(t *testing.T, h *Host, id backend.DomID) backend.GuestInfo {
	t.Helper()
	gi, err := h.Guest(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return gi
}

func suspended(gi backend.GuestInfo) bool {
	return gi.State == backend.StateShutdown && gi.ShutdownReason == backend.ReasonSuspend
}

// streamPair is the two ends a migration's stream goes through: a unix
// socket pair, as a TCP connection's file, or a pipe. Neither can seek.
func streamPair(t *testing.T, kind string) (r, w *os.File) {
	t.Helper()
	if kind == "pipe" {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		return r, w
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fds[0]), "incoming"), os.NewFile(uintptr(fds[1]), "outgoing")
}

type restored struct {
	id  backend.DomID
	err error
}

// restoreFrom restores, paused, a guest named name from r in the
// background, as a migration's destination does.
func restoreFrom(h *Host, r *os.File, name string, uuid byte) <-chan restored {
	done := make(chan restored, 1)
	go func() {
		defer r.Close()
		cfg := backendtest.Config(name, uuid, 64*1024, 2)
		id, err := h.Restore(context.Background(), cfg, backend.CreateOptions{Paused: true}, r, 2)
		done <- restored{id, err}
	}()
	return done
}

// TestSaveSuspends: a save stops the guest before its memory is written
// (its CPU time no longer moves) and leaves it suspended; the restored
// guest has the CPU time it had then.
func TestSaveSuspends(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	h := open(t, t.TempDir(), clk)
	ctx := context.Background()
	id := startGuest(t, h, "g", 1, "300")
	clk.Add(10 * time.Second)
	before := info(t, h, id).CPUTime
	f, err := os.Create(filepath.Join(t.TempDir(), "g.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tick := func(done, total uint64) { clk.Add(time.Second) }
	if err := h.Save(ctx, id, f, tick); err != nil {
		t.Fatal(err)
	}
	clk.Add(5 * time.Second)
	gi := info(t, h, id)
	if !suspended(gi) || gi.CPUTime != before {
		t.Fatalf("after the save: %+v, CPU time before it %v", gi, before)
	}
	if err := h.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, io.SeekStart)
	back, err := h.Restore(ctx, backendtest.Config("g", 1, 64*1024, 2), backend.CreateOptions{Paused: true}, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	if gi := info(t, h, back); gi.State != backend.StatePaused || gi.CPUTime != before {
		t.Fatalf("restored: %+v, want paused with CPU time %v", gi, before)
	}
}

// TestSaveLiveStream: a live save into a socket or pipe, read at once by
// a restore into a second guest of another name, as a migration to this
// host does. The source runs while its memory goes, and the destination
// starts from its state at the end.
func TestSaveLiveStream(t *testing.T) {
	for _, kind := range []string{"socketpair", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			h := open(t, t.TempDir(), clk)
			ctx := context.Background()
			id := startGuest(t, h, "src", 1, "300")
			before := info(t, h, id).CPUTime
			r, w := streamPair(t, kind)
			done := restoreFrom(h, r, "src-incoming", 2)
			tick := func(done, total uint64) { clk.Add(100 * time.Millisecond) }
			err := h.SaveLive(ctx, id, w, tick)
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			res := <-done
			if res.err != nil {
				t.Fatal(res.err)
			}
			src, dst := info(t, h, id), info(t, h, res.id)
			if !suspended(src) || src.CPUTime <= before {
				t.Fatalf("source after the live save: %+v (CPU time %v before)", src, before)
			}
			if dst.Name != "src-incoming" || dst.State != backend.StatePaused || dst.CPUTime != src.CPUTime {
				t.Fatalf("destination %+v, source %+v", dst, src)
			}
			if err := h.Destroy(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := h.Unpause(ctx, res.id); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Second)
			if gi := info(t, h, res.id); gi.State != backend.StateRunning || gi.CPUTime <= src.CPUTime {
				t.Fatalf("destination unpaused: %+v", gi)
			}
		})
	}
}

// TestSaveLiveAbort: a live save aborted half-way leaves the source
// running, and the restore reading it fails with no guest left.
func TestSaveLiveAbort(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	id := startGuest(t, h, "src", 1, "16") // 4 s to write
	r, w := streamPair(t, "socketpair")
	done := restoreFrom(h, r, "src-incoming", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := h.SaveLive(ctx, id, w, nil)
	w.Close()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("aborted live save: %v", err)
	}
	if res := <-done; res.err == nil || !errors.Is(res.err, backend.ErrFailed) {
		t.Fatalf("restore of the aborted stream: %+v", res)
	}
	if gi := info(t, h, id); gi.State != backend.StateRunning {
		t.Fatalf("source after the abort: %+v", gi)
	}
	list, _ := h.Guests(context.Background())
	if len(list) != 2 {
		t.Fatalf("guests after the abort: %+v", list)
	}
}

// TestResumeAfterSaveLive: the migration failed after the live save, so
// the source runs on from where it stopped; only a suspended guest can.
func TestResumeAfterSaveLive(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	h := open(t, t.TempDir(), clk)
	ctx := context.Background()
	id := startGuest(t, h, "src", 1, "300")
	if err := h.Resume(ctx, id); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("resume of a running guest: %v", err)
	}
	r, w := streamPair(t, "pipe")
	go func() { io.Copy(io.Discard, r); r.Close() }()
	err := h.SaveLive(ctx, id, w, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	stopped := info(t, h, id)
	if !suspended(stopped) {
		t.Fatalf("after the live save: %+v", stopped)
	}
	if err := h.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if gi := info(t, h, id); gi.State != backend.StateRunning || gi.CPUTime <= stopped.CPUTime {
		t.Fatalf("resumed: %+v, stopped at %v", gi, stopped.CPUTime)
	}
	if err := h.Resume(ctx, id); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("second resume: %v", err)
	}
}

// TestFailedSaveKeepsState: a save that fails half-way (or is aborted)
// gives the guest back as it was, running or paused, live or not.
func TestFailedSaveKeepsState(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	ctx := context.Background()
	meta := `<s:fault xmlns:s="urn:virtxend:sim" save="fail"/>`
	for i, paused := range []bool{false, true} {
		for _, live := range []bool{false, true} {
			id, err := h.Create(ctx, backendtest.Config("f", byte(i), 64*1024, 1), backend.CreateOptions{Metadata: meta, Paused: paused})
			if err != nil {
				t.Fatal(err)
			}
			r, w := streamPair(t, "pipe")
			go func() { io.Copy(io.Discard, r); r.Close() }()
			err = h.save(ctx, id, w, nil, live)
			w.Close()
			want := backend.StateRunning
			if paused {
				want = backend.StatePaused
			}
			if gi := info(t, h, id); !errors.Is(err, backend.ErrFailed) || gi.State != want {
				t.Errorf("paused %v, live %v: %v, then %+v", paused, live, err, gi)
			}
			h.Destroy(ctx, id)
		}
	}
}
