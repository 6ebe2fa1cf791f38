// Package pty opens pseudo-terminal pairs and puts terminals in raw mode,
// as xenconsoled does for a guest's console and libvirt's fdstream does
// for the end it opens (cfmakeraw). It knows nothing of guests.
package pty

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Pair is an open pseudo-terminal: its master and its slave, whose path
// (/dev/pts/N) other processes open.
type Pair struct {
	Master *os.File
	Slave  *os.File
	Path   string
}

// Open allocates a pty pair, unlocked and in raw mode. Neither end becomes
// the caller's controlling terminal.
func Open() (*Pair, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	path, err := unlock(m)
	if err != nil {
		m.Close()
		return nil, err
	}
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, err
	}
	if err := MakeRaw(s); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Pair{Master: m, Slave: s, Path: path}, nil
}

// unlock is unlockpt and ptsname for master m.
func unlock(m *os.File) (string, error) {
	rc, err := m.SyscallConn()
	if err != nil {
		return "", err
	}
	var n int
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	})
	if err == nil {
		err = ioErr
	}
	if err != nil {
		return "", fmt.Errorf("pty: %w", err)
	}
	return "/dev/pts/" + strconv.Itoa(n), nil
}

// Close closes both ends; the slave's other openers see a hangup.
func (p *Pair) Close() error {
	err := p.Master.Close()
	if serr := p.Slave.Close(); err == nil {
		err = serr
	}
	return err
}

// AttrError is a failure to read (tcgetattr) or set (tcsetattr) a
// terminal's attributes; libvirt words the two differently.
type AttrError struct {
	Set bool
	Err error
}

func (e *AttrError) Error() string {
	if e.Set {
		return "tcsetattr: " + e.Err.Error()
	}
	return "tcgetattr: " + e.Err.Error()
}

func (e *AttrError) Unwrap() error { return e.Err }

// MakeRaw is cfmakeraw on terminal f: no echo, no line editing, no
// signals, no output processing, 8-bit characters. It fails with an
// *AttrError when f is not a terminal.
func MakeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ioErr = &AttrError{Err: err}
			return
		}
		raw(t)
		if err := unix.IoctlSetTermios(int(fd), unix.TCSETS, t); err != nil {
			ioErr = &AttrError{Set: true, Err: err}
		}
	})
	if err != nil {
		return err
	}
	return ioErr
}

// raw changes t as glibc's cfmakeraw does.
func raw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}
