package driver

import (
	"context"
	"time"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
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

// recordConsoles is libxlConsoleCallback: once the backend reports the
// started guest's console ptys, the live definition and its status file
// record them (dumpxml's tty=, virsh ttyconsole). It runs beside the
// start, as libvirt's callback does, and gives up after consoleWait.
func (drv *Driver) recordConsoles(d *domain, id int32) {
	ttys, ok := drv.be.(backend.ConsoleTTYs)
	chars := ptyChars(d.snap().def)
	if !ok || len(chars) == 0 {
		return
	}
	drv.handlers.Add(1)
	go func() {
		defer drv.handlers.Done()
		paths := drv.pollConsoles(ttys, chars, id)
		if len(paths) == 0 {
			return
		}
		ctx := context.Background()
		if drv.beginJob(ctx, d) != nil {
			return
		}
		defer drv.endJob(d)
		if d.ref().ID != id {
			return // stopped or restarted meanwhile
		}
		drv.editLive(d, func(def *libvirtxml.Domain) {
			for i, c := range ptyChars(def) {
				if p := paths[i]; p != "" {
					c.src.Pty.Path = p
					if c.tty != nil {
						*c.tty = p
					}
				}
			}
		})
		if err := drv.writeStatus(d.snap()); err != nil {
			drv.log.Warn("cannot save status", "domain", d.ref().Name, "err", err)
		}
	}()
}

// pollConsoles asks for each pty until all have one, the driver stops or
// consoleWait passes; the answer is by index into chars.
func (drv *Driver) pollConsoles(ttys backend.ConsoleTTYs, chars []ptyChar, id int32) map[int]string {
	paths := map[int]string{}
	deadline := time.Now().Add(consoleWait)
	for {
		for i, c := range chars {
			if paths[i] != "" {
				continue
			}
			if p, err := ttys.ConsoleTTY(context.Background(), backend.DomID(id), c.port, c.serial); err == nil && p != "" {
				paths[i] = p
			}
		}
		if len(paths) == len(chars) || time.Now().After(deadline) {
			return paths
		}
		select {
		case <-drv.stop:
			return paths
		case <-time.After(consolePoll):
		}
	}
}
