package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

// How long after a start the driver looks for the guest's console ptys:
// xenconsoled sets them up shortly after the domain exists.
const (
	consoleWait = 10 * time.Second
	consolePoll = 200 * time.Millisecond
)

// ptyChar is one pty console or serial port of a definition, as
// libxlConsoleCallback walks them.
type ptyChar struct {
	src    *libvirtxml.DomainChardevSource
	tty    *string // the console's tty attribute, nil for a serial port
	port   int
	serial bool
}

// ptyChars lists def's pty consoles and serial ports. An HVM guest's
// first console of target type serial is its first serial port.
func ptyChars(def *libvirtxml.Domain) []ptyChar {
	if def.Devices == nil {
		return nil
	}
	dev := def.Devices
	var out []ptyChar
	for i := range dev.Consoles {
		c := &dev.Consoles[i]
		if i == 0 && c.Target != nil && c.Target.Type == "serial" {
			continue // the serial port below
		}
		if c.Source != nil && c.Source.Pty != nil {
			var port *uint
			if c.Target != nil {
				port = c.Target.Port
			}
			out = append(out, ptyChar{src: c.Source, tty: &c.TTY, port: portOf(port)})
		}
	}
	for i := range dev.Serials {
		s := &dev.Serials[i]
		if s.Source != nil && s.Source.Pty != nil {
			var port *uint
			if s.Target != nil {
				port = s.Target.Port
			}
			out = append(out, ptyChar{src: s.Source, port: portOf(port), serial: true})
		}
	}
	return out
}

// portOf is a target's port number; libvirt numbers an unset one 0.
func portOf(p *uint) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// recordConsoles is libxlConsoleCallback: the started guest's console
// ptys are recorded in its live definition (dumpxml's tty=, virsh
// ttyconsole), and the serial ports get their aliases (serial0, ...), by
// which a client opens them. The caller holds d's job and writes the
// status file after: a first look is made at once, as libvirt's callback
// reads them within the create, and when it finds every pty (as it
// mostly does: xenconsoled makes them while libxl sets the guest up) they
// are recorded now, in that status write. Otherwise the recording goes on
// beside the start, which waits for it (awaitConsoles), and gives up on
// the ptys after consoleWait.
func (drv *Driver) recordConsoles(d *domain, id int32) {
	def := d.snap().def.parsed()
	chars := ptyChars(def)
	ttys, ok := drv.be.(backend.ConsoleTTYs)
	if !ok {
		chars = nil
	}
	if len(chars) == 0 && (def.Devices == nil || len(def.Devices.Serials) == 0) {
		return
	}
	// named before the ptys are read: a console daemon that restarts
	// meanwhile makes the next refreshConsoles read them again
	server := drv.consoleServer(true)
	paths, done := drv.lookConsoles(ttys, chars, id, map[int]string{})
	if done {
		drv.setConsoles(d, chars, paths, server)
		return
	}
	recorded := drv.consoles.startRecording(d)
	drv.handlers.Add(1)
	go func() {
		defer drv.handlers.Done()
		defer recorded()
		paths = drv.pollConsoles(ttys, chars, id, consoleWait, paths)
		ctx := context.Background()
		if drv.beginJob(ctx, d) != nil {
			return
		}
		defer drv.endJob(d)
		if d.ref().ID != id {
			return // stopped or restarted meanwhile
		}
		drv.setConsoles(d, chars, paths, server)
		if err := drv.writeStatus(d.snap()); err != nil {
			drv.log.Warn("cannot save status", "domain", d.ref().Name, "err", err)
		}
	}()
}

// setConsoles records the ptys found (by index into chars) in d's live
// definition, and names its serial ports; the caller holds d's job. The
// console daemon is kept only when every pty was found.
func (drv *Driver) setConsoles(d *domain, chars []ptyChar, paths map[int]string, server string) {
	d.mu.Lock()
	d.consoleServer = ""
	if len(paths) == len(chars) {
		d.consoleServer = server
	}
	d.mu.Unlock()
	drv.editLive(d, func(def *libvirtxml.Domain) {
		for i, c := range ptyChars(def) {
			if p := paths[i]; p != "" && len(chars) > 0 {
				c.src.Pty.Path = p
				if c.tty != nil {
					*c.tty = p
				}
			}
		}
		nameSerials(def)
	})
}

// awaitConsoles waits until the console ptys of d, just started, are in
// its live XML, as they are when libvirt's start returns: libxl calls
// libxlConsoleCallback within the create. It reports whether it waited.
// The recording takes d's job: the caller must not hold it.
func (drv *Driver) awaitConsoles(ctx context.Context, d *domain) bool {
	wait := drv.consoles.recorded(d)
	if wait == nil {
		return false
	}
	select {
	case <-wait:
	case <-ctx.Done():
	case <-drv.stop:
	}
	return true
}

// nameSerials gives each serial port libxl's alias, serialN by index.
func nameSerials(def *libvirtxml.Domain) {
	if def.Devices == nil {
		return
	}
	for i := range def.Devices.Serials {
		def.Devices.Serials[i].Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("serial%d", i)}
	}
}

// OpenConsole is libxlDomainOpenConsole (virDomainOpenConsole; flags:
// VIR_DOMAIN_CONSOLE_FORCE): a session on the pty of the serial port
// whose alias is devName, or by default of the first console (the first
// serial port if that console is one). FORCE takes the pty over from the
// session that holds it, which ends (Console.Read's ErrConsoleTaken);
// without it a held pty is refused.
func (drv *Driver) OpenConsole(ctx context.Context, dom Domain, devName *string, flags uint32) (*Console, error) {
	forceFlag := uint32(libvirt.DomainConsoleForce)
	if err := checkFlags(flags, forceFlag, "libxlDomainOpenConsole"); err != nil {
		return nil, err
	}
	force := flags&forceFlag != 0
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return nil, err
	}
	if !d.snap().active() {
		return nil, errNotRunning()
	}
	// Just started (by xl, or a start that gave up waiting): its ptys may
	// be on their way into the live XML.
	if drv.awaitConsoles(ctx, d) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	drv.refreshConsoles(d, false)
	id := d.ref().ID
	c, err := drv.openConsole(d, devName, force)
	if err != nil && isOpenFailure(err) {
		// the pty recorded is gone: a console daemon restarted unseen
		drv.refreshConsoles(d, true)
		c, err = drv.openConsole(d, devName, force)
	}
	if err != nil {
		return nil, err
	}
	drv.followConsole(c, d, devName, id)
	return c, nil
}

// openConsole opens d's console devName as recorded now.
func (drv *Driver) openConsole(d *domain, devName *string, force bool) (*Console, error) {
	s := d.snap()
	if !s.active() {
		return nil, errNotRunning()
	}
	src, alias, found := consoleChardev(s.def.parsed(), devName)
	if !found {
		return nil, libxlErr(libvirt.ErrInternalError, "cannot find character device %s", nullStr(devName))
	}
	if src == nil || src.Pty == nil {
		name := nullStr(&alias)
		if devName != nil {
			name = *devName
		}
		return nil, libxlErr(libvirt.ErrInternalError, "character device %s is not using a PTY", name)
	}
	if src.Pty.Path == "" {
		return nil, virerr.New(virerr.FromNone, libvirt.ErrOperationFailed, "PTY device is not yet assigned")
	}
	return drv.consoles.openPTY(src.Pty.Path, force)
}

// consoleChardev finds the character device libxlDomainOpenConsole opens:
// with devName the serial port of that alias, else the first console, or
// the first serial port if that console is one. It returns the device's
// source and alias.
func consoleChardev(def *libvirtxml.Domain, devName *string) (*libvirtxml.DomainChardevSource, string, bool) {
	dev := def.Devices
	if dev == nil {
		return nil, "", false
	}
	if devName != nil {
		for _, s := range dev.Serials {
			if s.Alias != nil && s.Alias.Name == *devName {
				return s.Source, s.Alias.Name, true
			}
		}
		return nil, "", false
	}
	if len(dev.Consoles) == 0 {
		return nil, "", false
	}
	c := dev.Consoles[0]
	if c.Target != nil && c.Target.Type == "serial" && len(dev.Serials) > 0 {
		s := dev.Serials[0]
		return s.Source, aliasName(s.Alias), true
	}
	return c.Source, aliasName(c.Alias), true
}

func aliasName(a *libvirtxml.DomainAlias) string {
	if a == nil {
		return ""
	}
	return a.Name
}

// nullStr is libvirt's NULLSTR: "<null>" for a missing or empty string.
func nullStr(s *string) string {
	if s == nil || *s == "" {
		return "<null>"
	}
	return *s
}

// pollConsoles asks for each pty not in paths until all have one, the
// driver stops, wait passes or the backend says it has no consoles at all
// (a simulated host without a console daemon, as the driver's unit tests
// run it: waiting there made every start take consoleWait); the answer is
// by index into chars.
func (drv *Driver) pollConsoles(ttys backend.ConsoleTTYs, chars []ptyChar, id int32, wait time.Duration, paths map[int]string) map[int]string {
	deadline := time.Now().Add(wait)
	for {
		if _, done := drv.lookConsoles(ttys, chars, id, paths); done || time.Now().After(deadline) {
			return paths
		}
		select {
		case <-drv.stop:
			return paths
		case <-time.After(consolePoll):
		}
	}
}

// lookConsoles asks once for each pty not in paths and adds those found;
// done is set when every pty has one or the backend has no consoles.
func (drv *Driver) lookConsoles(ttys backend.ConsoleTTYs, chars []ptyChar, id int32, paths map[int]string) (map[int]string, bool) {
	for i, c := range chars {
		if paths[i] != "" {
			continue
		}
		p, err := ttys.ConsoleTTY(context.Background(), backend.DomID(id), c.port, c.serial)
		if errors.Is(err, backend.ErrUnsupported) {
			return paths, true
		}
		if err == nil && p != "" {
			paths[i] = p
		}
	}
	return paths, len(paths) == len(chars)
}
