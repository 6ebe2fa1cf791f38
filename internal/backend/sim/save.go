package sim

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

var _ backend.Saver = (*Host)(nil)
var _ backend.Migrator = (*Host)(nil)
var _ backend.CoreDumper = (*Host)(nil)

// streamMagic starts the simulated host's save stream, where real Xen's
// holds libxl's. Version 2 moved the guest's state after the memory
// image, where a live save takes it; a version 1 image is refused.
const streamMagic = "virtxend-sim-stream 2\n"

// The memory image a save or dump writes is scaled down: memImagePerMiB
// bytes per MiB of guest memory (1 GiB of guest, 4 MiB of image), written
// in chunks at the guest's save rate.
const (
	memImagePerMiB = 4096
	chunkBytes     = 64 << 10
	// DefaultSaveRate is how many MiB of guest memory a save or dump
	// writes per second unless the guest's save-rate fault says otherwise:
	// a 1 GiB guest takes about 3.4 s.
	DefaultSaveRate = 300
)

// savedGuest is the guest's state a save keeps and a restore resumes.
// UUID and Name say whose it was, for a reader of the stream; a restored
// guest takes its identity from its configuration, as with libxl.
type savedGuest struct {
	UUID         backend.UUID  `json:"uuid"`
	Name         string        `json:"name"`
	TargetMemKiB uint64        `json:"target_mem_kib"`
	VCPUsOnline  int           `json:"vcpus_online"`
	CPUTime      time.Duration `json:"cpu_time"`
	Tuning       tuning        `json:"tuning,omitzero"`
}

// applyTo gives a restored guest its saved state (nil: a new guest).
func (s *savedGuest) applyTo(g *guest) {
	if s == nil {
		return
	}
	g.TargetMemKiB, g.CPUTime, g.Tuning = s.TargetMemKiB, s.CPUTime, s.Tuning
	if s.VCPUsOnline > 0 && s.VCPUsOnline <= g.VCPUsMax {
		g.VCPUsOnline = s.VCPUsOnline
	}
}

// memImageSize is the size of the scaled memory image of a guest.
func memImageSize(memKiB uint64) uint64 { return memKiB / 1024 * memImagePerMiB }

// Save implements backend.Saver as libxl_domain_suspend does it: the
// guest is suspended first, then its scaled memory image is written at
// its save rate, then its state. On success it stays suspended (shut down
// with ReasonSuspend, its CPU time stopped) for the caller to destroy;
// on failure or abort it runs again, or stays paused, as it was.
func (h *Host) Save(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress) error {
	return h.save(ctx, id, f, progress, false)
}

// SaveLive implements backend.Migrator: as Save, but the guest runs on,
// accruing CPU time, while its memory is written, and is suspended only
// at the end, where its state is taken: the restored guest continues
// from the latest. f may be a socket or pipe: nothing here seeks or
// stats it.
func (h *Host) SaveLive(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress) error {
	return h.save(ctx, id, f, progress, true)
}

// Resume implements backend.Migrator: a guest that a save left suspended
// runs again, as a guest suspended to RAM wakes up (libxl_domain_resume
// with suspend_cancel either way).
func (h *Host) Resume(ctx context.Context, id backend.DomID) error {
	return h.Wakeup(ctx, id)
}

// save writes the stream: the magic, the memory image's size, the image,
// then the guest's state, which comes last so that a live save can take
// it at the end, as libxl's stream ends with the vCPUs' context.
func (h *Host) save(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress, live bool) error {
	var size uint64
	var faults Faults
	var saved *savedGuest
	var wasPaused bool
	err := h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if g.Shutdown {
			return fmt.Errorf("%w: domain %d is shut down", backend.ErrInvalid, id)
		}
		size, faults, wasPaused = memImageSize(g.TargetMemKiB), g.Faults, g.Paused
		if !live {
			saved = g.suspendForSave(now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err = writeStream(ctx, f, size, faults, progress); err == nil && live {
		err = h.update(id, func(st *hostState, g *guest, now time.Time) error {
			if g.Shutdown {
				return fmt.Errorf("%w: domain %d shut down during its save", backend.ErrFailed, id)
			}
			saved = g.suspendForSave(now)
			return nil
		})
	}
	if err == nil {
		err = writeState(f, saved)
	}
	if err != nil && saved != nil {
		h.cancelSuspend(id, wasPaused)
	}
	return err
}

// suspendForSave suspends the guest as libxl leaves a saved one (a paused
// guest is unpaused for it) and returns the state the stream keeps.
func (g *guest) suspendForSave(now time.Time) *savedGuest {
	g.Paused = false
	g.shutDown(now, backend.ReasonSuspend)
	return &savedGuest{UUID: g.UUID, Name: g.Name, TargetMemKiB: g.TargetMemKiB,
		VCPUsOnline: g.VCPUsOnline, CPUTime: g.CPUTime, Tuning: g.Tuning}
}

// cancelSuspend gives a guest that a failed save suspended its run back,
// paused again if it was, as libxl_domain_resume does for xl.
func (h *Host) cancelSuspend(id backend.DomID, paused bool) {
	h.update(id, func(st *hostState, g *guest, now time.Time) error {
		if err := g.wake(now); err != nil {
			return err
		}
		g.Paused = paused
		g.settle(now)
		return nil
	})
}

// writeStream writes the stream's magic and its memory image.
func writeStream(ctx context.Context, f *os.File, size uint64, faults Faults, progress backend.Progress) error {
	w := bufio.NewWriter(f)
	w.WriteString(streamMagic)
	binary.Write(w, binary.LittleEndian, size)
	if err := w.Flush(); err != nil {
		return err
	}
	fail := ""
	if faults.FailSave {
		fail = "save fails half-way (sim:fault save='fail')"
	}
	return writeMemory(ctx, f, size, faults.saveRate(), fail, progress)
}

// writeState ends the stream with the guest's state.
func writeState(f *os.File, saved *savedGuest) error {
	js, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	binary.Write(w, binary.LittleEndian, uint64(len(js)))
	w.Write(js)
	return w.Flush()
}

// writeMemory writes size bytes of memory image at rate MiB of guest
// memory per second, reporting progress; with fail set it stops half-way
// with that failure.
func writeMemory(ctx context.Context, w io.Writer, size uint64, rate int, fail string, progress backend.Progress) error {
	chunk := make([]byte, chunkBytes)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	perChunk := time.Duration(float64(time.Second) * float64(chunkBytes) / memImagePerMiB / float64(rate))
	for done := uint64(0); done < size; {
		if fail != "" && done >= size/2 {
			return fmt.Errorf("%w: %s", backend.ErrFailed, fail)
		}
		n := min(uint64(chunkBytes), size-done)
		if _, err := w.Write(chunk[:n]); err != nil {
			return err
		}
		done += n
		if progress != nil {
			progress(done, size)
		}
		if err := sleep(ctx, time.Duration(float64(perChunk)*float64(n)/chunkBytes)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Restore implements backend.Saver: the guest comes back from the state
// in f with a new id and its counters (CPU time) where they were. As in
// libxl's stream, nothing in it names the guest: cfg does, so that a
// migration's destination on the same host can take another name.
func (h *Host) Restore(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, f *os.File, version uint32) (backend.DomID, error) {
	saved, err := readSaved(bufio.NewReader(f))
	if err != nil {
		return 0, fmt.Errorf("%w: restore: %v", backend.ErrFailed, err)
	}
	return h.add(ctx, cfg, opts, saved)
}

var errTruncated = errors.New("the stream is truncated")

// readSaved reads what save wrote, to its end.
func readSaved(r io.Reader) (*savedGuest, error) {
	magic := make([]byte, len(streamMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != streamMagic {
		return nil, errors.New("not a stream of the simulated host")
	}
	var size uint64
	if err := binary.Read(r, binary.LittleEndian, &size); err != nil {
		return nil, errTruncated
	}
	if got, err := io.CopyN(io.Discard, r, int64(size)); err != nil || uint64(got) != size {
		return nil, errTruncated
	}
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<20 {
		return nil, errTruncated
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, errTruncated
	}
	var saved savedGuest
	if err := json.Unmarshal(js, &saved); err != nil {
		return nil, err
	}
	return &saved, nil
}

// CoreDump implements backend.CoreDumper: an ELF core file (a header, no
// segments) followed by the guest's scaled memory image, at its save rate.
func (h *Host) CoreDump(ctx context.Context, id backend.DomID, path string, progress backend.Progress) error {
	var memKiB uint64
	var faults Faults
	err := h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		memKiB, faults = g.TargetMemKiB, g.Faults
		return nil
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := elf.Header64{Type: uint16(elf.ET_CORE), Machine: uint16(elf.EM_X86_64),
		Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	if err := binary.Write(f, binary.LittleEndian, &hdr); err != nil {
		return err
	}
	if err := writeMemory(ctx, f, memImageSize(memKiB), faults.saveRate(), "", progress); err != nil {
		return err
	}
	return f.Sync()
}
