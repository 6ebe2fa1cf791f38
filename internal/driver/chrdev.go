package driver

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pty"
	"virtxend/internal/virerr"
)

// ErrConsoleTaken is what a console session reads and writes once another
// client took the console over with VIR_DOMAIN_CONSOLE_FORCE: libvirt
// aborts the stream, and its daemon ends it with an I/O failure.
var ErrConsoleTaken = errors.New("console taken over by another session")

// chrdevs is virChrdevs: the console sessions open on the host's ptys, one
// per pty, by path. libvirt keeps one per domain; a pty belongs to one
// guest at a time, so one for the driver is the same.
type chrdevs struct {
	mu   sync.Mutex
	open map[string]*Console
	// recording holds, per domain whose console ptys are being looked
	// for after a start (recordConsoles), a channel closed when done: a
	// console opened right after the start (virsh start --console) waits
	// for its pty rather than fail.
	recording map[*domain]chan struct{}
}

// startRecording marks d's consoles as being recorded; the returned func
// marks them done.
func (cd *chrdevs) startRecording(d *domain) func() {
	ch := make(chan struct{})
	cd.mu.Lock()
	if cd.recording == nil {
		cd.recording = map[*domain]chan struct{}{}
	}
	cd.recording[d] = ch
	cd.mu.Unlock()
	return func() {
		cd.mu.Lock()
		if cd.recording[d] == ch {
			delete(cd.recording, d)
		}
		cd.mu.Unlock()
		close(ch)
	}
}

// recorded is closed once d's consoles are recorded (nil if they are).
func (cd *chrdevs) recorded(d *domain) <-chan struct{} {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	return cd.recording[d]
}

// Console is an open console session (virFDStreamOpenPTY): the pty's
// bytes both ways. Read and Write block; Finish or Abort end the session
// and make a blocked Read return. A session that can follow (follow set)
// outlives its pty: when the guest boots again, as a new domain on Xen
// (a reboot or reset), or its console daemon gives it a new pty, the
// session moves to the new pty, as a console of libvirt's QEMU driver
// stays open across the guest's reboot.
type Console struct {
	devs  *chrdevs
	taken atomic.Bool
	// follow waits for the pty of the same device after the one at path
	// hung up; "" when there is none (the guest stopped for good). done is
	// closed when the session ends.
	follow func(path string, done <-chan struct{}) string

	mu     sync.Mutex // guards f, path and closed
	f      *os.File
	path   string
	closed bool
	done   chan struct{} // closed with closed
}

// openPTY is virChrdevOpen for a pty: the session on path, taking it over
// from the session that holds it if force, else failing with libvirt's
// error when one does.
func (cd *chrdevs) openPTY(path string, force bool) (*Console, error) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	if old := cd.open[path]; old != nil {
		if !force {
			return nil, errConsoleBusy()
		}
		old.taken.Store(true)
		old.closeFile()
		delete(cd.open, path)
	}
	f, err := openTTY(path)
	if err != nil {
		return nil, err
	}
	c := &Console{f: f, path: path, devs: cd, done: make(chan struct{})}
	if cd.open == nil {
		cd.open = map[string]*Console{}
	}
	cd.open[path] = c
	return c, nil
}

func errConsoleBusy() error {
	return libxlErr(libvirt.ErrOperationFailed, "Active console session exists for this domain")
}

// move puts session c on the pty at path, in place of its own, unless c
// ended meanwhile or another session holds that pty.
func (cd *chrdevs) move(c *Console, path string) error {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || cd.open[c.path] != c {
		return ErrConsoleTaken
	}
	if other := cd.open[path]; other != nil && other != c {
		return errConsoleBusy()
	}
	f, err := openTTY(path)
	if err != nil {
		return err
	}
	c.f.Close()
	delete(cd.open, c.path)
	c.f, c.path = f, path
	cd.open[path] = c
	return nil
}

// openTTY opens a pty's slave end in raw mode, with virFDStreamOpenPTY's
// errors.
func openTTY(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, virerr.System(virerr.FromStreams, unwrapPath(err), "Unable to open stream for '%s'", path)
	}
	if err := pty.MakeRaw(f); err != nil {
		f.Close()
		var ae *pty.AttrError
		if errors.As(err, &ae) && ae.Set {
			return nil, virerr.System(virerr.FromStreams, ae.Err, "unable to set tty attributes: %s", path)
		}
		if ae != nil {
			err = ae.Err
		}
		return nil, virerr.System(virerr.FromStreams, err, "unable to get tty attributes: %s", path)
	}
	return f, nil
}

// unwrapPath is the errno inside an *os.PathError, which libvirt reports
// without Go's "open PATH:" prefix.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// file is the pty the session is on now, and its path.
func (c *Console) file() (*os.File, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f, c.path
}

func (c *Console) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Read reads what the guest printed; io.EOF once its pty hung up (the
// guest is gone) and the session cannot follow it to a new one,
// ErrConsoleTaken once another session took it over.
func (c *Console) Read(p []byte) (int, error) {
	for {
		f, path := c.file()
		n, err := f.Read(p)
		if n > 0 || !hungUp(err) || !c.followFrom(path) {
			return n, c.ioErr(err, "cannot read from stream")
		}
	}
}

// Write sends typed bytes to the guest. What is typed while the session
// waits for the guest's next boot is dropped, as keys pressed while a
// machine restarts are.
func (c *Console) Write(p []byte) (int, error) {
	for {
		f, _ := c.file()
		n, err := f.Write(p)
		switch {
		case err == nil || c.ended() || c.taken.Load():
		case c.moved(f):
			continue // Read moved the session meanwhile
		case c.follow != nil && (hungUp(err) || errors.Is(err, os.ErrClosed)):
			return len(p), nil
		}
		return n, c.ioErr(err, "cannot write to stream")
	}
}

// moved reports whether the session is no longer on f.
func (c *Console) moved(f *os.File) bool {
	now, _ := c.file()
	return now != f
}

// hungUp reports whether a pty read or write failed because the other
// end, the console daemon's, closed: the guest is gone.
func hungUp(err error) bool {
	return err == io.EOF || errors.Is(err, syscall.EIO)
}

// followFrom moves the session from the pty at path, which hung up, to
// the pty of the same device in the guest's next boot; it reports whether
// it did.
func (c *Console) followFrom(path string) bool {
	if c.follow == nil || c.taken.Load() || c.ended() {
		return false
	}
	next := c.follow(path, c.done)
	return next != "" && c.devs.move(c, next) == nil
}

func (c *Console) ioErr(err error, what string) error {
	switch {
	case err == nil || err == io.EOF:
		return err
	case c.taken.Load():
		return ErrConsoleTaken
	case errors.Is(err, os.ErrClosed):
		return io.EOF // ended by Finish or Abort
	}
	return virerr.System(virerr.FromStreams, unwrapPath(err), "%s", what)
}

// Finish ends the session at the client's request.
func (c *Console) Finish() error {
	c.release()
	return nil
}

// Abort ends the session: the client aborted or went away.
func (c *Console) Abort() { c.release() }

// release closes the pty and frees it for the next session, unless another
// session has it already.
func (c *Console) release() {
	c.devs.mu.Lock()
	_, path := c.file()
	if c.devs.open[path] == c {
		delete(c.devs.open, path)
	}
	c.devs.mu.Unlock()
	c.closeFile()
}

// closeFile ends the session: its pty is closed and it follows no more.
func (c *Console) closeFile() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.f.Close()
		close(c.done)
	}
}
