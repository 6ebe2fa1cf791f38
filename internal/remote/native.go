package remote

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xlcfg"
)

func (p *program) nativeProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procConnectDomainXMLFromNative, p.xmlFromNative),
		rpc.Handle(procConnectDomainXMLToNative, p.xmlToNative),
	}
}

// nativeErr gives a conversion error libvirt's code and domain: syntax
// errors come from the config parser, others from the xl or xm converter.
func nativeErr(err error, f xlcfg.Format) error {
	var e *xlcfg.Error
	if !errors.As(err, &e) {
		return err
	}
	dom := virerr.FromXenXL
	switch {
	case e.Code == int(libvirt.ErrConfSyntax):
		dom = virerr.FromConf
	case e.Code == int(libvirt.ErrInvalidArg):
		dom = virerr.FromLibxl
	case f == xlcfg.XM:
		dom = virerr.FromXenXM
	}
	return xlcfg.Virerr(err, dom)
}

// xmlFromNative is libxlConnectDomainXMLFromNative. Settings the
// conversion does not use are logged: libvirt drops them silently.
func (p *program) xmlFromNative(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectDomainXMLFromNativeArgs) (*libvirt.ConnectDomainXMLFromNativeRet, error) {
	if a.Flags != 0 {
		return nil, virerr.UnsupportedFlags(virerr.FromLibxl, a.Flags, "libxlConnectDomainXMLFromNative")
	}
	f := xlcfg.Format(a.NativeFormat)
	var o xlcfg.Options
	if h, err := p.drv.HostInfo(ctx); err == nil {
		o.HWVirt = h.HWVirt
	}
	r, err := xlcfg.ToXML([]byte(a.NativeConfig), f, o)
	if err != nil {
		return nil, nativeErr(err, f)
	}
	for _, u := range r.Unsupported {
		p.log.WarnContext(ctx, "native config setting not converted", "format", a.NativeFormat,
			"key", u.Key, "line", u.Line)
	}
	return &libvirt.ConnectDomainXMLFromNativeRet{DomainXML: r.XML}, nil
}

// xmlToNative is libxlConnectDomainXMLToNative.
func (p *program) xmlToNative(_ context.Context, _ *rpc.Client, a *libvirt.ConnectDomainXMLToNativeArgs) (*libvirt.ConnectDomainXMLToNativeRet, error) {
	if a.Flags != 0 {
		return nil, virerr.UnsupportedFlags(virerr.FromLibxl, a.Flags, "libxlConnectDomainXMLToNative")
	}
	f := xlcfg.Format(a.NativeFormat)
	b, err := xlcfg.ToNative(a.DomainXML, f)
	if err != nil {
		return nil, nativeErr(err, f)
	}
	return &libvirt.ConnectDomainXMLToNativeRet{NativeConfig: string(b)}, nil
}
