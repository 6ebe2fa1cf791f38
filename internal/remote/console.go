package remote

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

func (p *program) consoleProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.HandleStream(procDomainOpenConsole, p.openConsole),
		rpc.HandleStream(procDomainScreenshot, p.screenshot),
		rpc.Handle(procDomainSendKey, p.sendKey),
	}
}

func (p *program) sendKey(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSendKeyArgs) (*rpc.Void, error) {
	return nil, p.drv.SendKey(ctx, domainOf(a.Dom), a.Codeset, a.Holdtime, a.Keycodes, a.Flags)
}

// screenshot is remoteDispatchDomainScreenshot: the picture's file becomes
// the call's stream, which ends at the file's end; the reply names its
// MIME type.
func (p *program) screenshot(ctx context.Context, _ *rpc.Client, a *libvirt.DomainScreenshotArgs) (*rpc.Stream, error) {
	f, mime, err := p.drv.Screenshot(ctx, domainOf(a.Dom), a.Screen, a.Flags)
	if err != nil {
		return nil, err
	}
	return &rpc.Stream{
		Ret:    &libvirt.DomainScreenshotRet{Mime: libvirt.OptString{mime}},
		Source: f,
		Finish: f.Close,
		Abort:  func() { f.Close() },
	}, nil
}

// openConsole is remoteDispatchDomainOpenConsole: the console session
// becomes the call's stream, the guest's output its source and what the
// client types its sink.
func (p *program) openConsole(ctx context.Context, _ *rpc.Client, a *libvirt.DomainOpenConsoleArgs) (*rpc.Stream, error) {
	con, err := p.drv.OpenConsole(ctx, domainOf(a.Dom), optional(a.DevName), a.Flags)
	if err != nil {
		return nil, err
	}
	return &rpc.Stream{
		Source: consoleIO{con}, Sink: consoleIO{con},
		Finish: con.Finish, Abort: con.Abort,
	}, nil
}

// consoleIO gives a session taken over by another the end libvirt's daemon
// gives an aborted stream (daemonStreamEvent on VIR_STREAM_EVENT_ERROR):
// "stream had I/O failure", which virsh prints as it exits.
type consoleIO struct{ c *driver.Console }

func (io consoleIO) Read(p []byte) (int, error) {
	n, err := io.c.Read(p)
	return n, streamErr(err)
}

func (io consoleIO) Write(p []byte) (int, error) {
	n, err := io.c.Write(p)
	return n, streamErr(err)
}

func streamErr(err error) error {
	if errors.Is(err, driver.ErrConsoleTaken) {
		return virerr.New(virerr.FromStreams, libvirt.ErrRPC, "stream had I/O failure")
	}
	return err
}
