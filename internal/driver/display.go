package driver

import (
	"context"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/keycode"
	"virtxend/internal/virerr"
)

// Screenshot is virDomainScreenshot (flags: none), which libvirt's libxl
// driver lacks, as libvirt's QEMU driver answers it (qemuDomainScreenshot):
// the picture of a running guest's screen, which its device model writes
// into a temporary file, and the picture's MIME type. The file is open for
// reading and already removed; the caller closes it. Only the first
// screen can be taken: Xen's device model has one display.
func (drv *Driver) Screenshot(ctx context.Context, dom Domain, screen, flags uint32) (*os.File, string, error) {
	if err := checkFlags(flags, 0, "libxlDomainScreenshot"); err != nil {
		return nil, "", err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Query)
	if err != nil {
		return nil, "", err
	}
	defer drv.endJob(d)
	s := d.snap()
	if err := checkScreen(s.def.parsed(), screen); err != nil {
		return nil, "", err
	}
	shooter, ok := drv.be.(backend.Screenshotter)
	if !ok {
		return nil, "", domainErr(libvirt.ErrNoSupport, "%s", "virDomainScreenshot")
	}
	// named as the store names its temporaries: the next start removes
	// one a killed daemon left (cleanTemp)
	tmp, err := os.CreateTemp(drv.paths.LibDir(), ".screendump.tmp-*")
	if err != nil {
		return nil, "", errSystem(err, "cannot create a file for the screenshot in '%s'", drv.paths.LibDir())
	}
	defer os.Remove(tmp.Name())
	tmp.Close()
	mime, err := shooter.Screenshot(ctx, backend.DomID(s.ref.ID), tmp.Name())
	if err != nil {
		return nil, "", libxlFailed(err, "Failed to take a screenshot of domain '%d'", s.ref.ID)
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return nil, "", libxlErr(libvirt.ErrOperationFailed, "unable to open stream")
	}
	return f, mime, nil
}

// checkScreen refuses a screen the definition does not have, in libvirt's
// words, and any but the first.
func checkScreen(def *libvirtxml.Domain, screen uint32) error {
	var heads uint32
	if def.Devices != nil {
		for _, v := range def.Devices.Videos {
			if v.Model.Type == "none" {
				continue
			}
			n := uint32(1)
			if v.Model.Heads != 0 {
				n = uint32(v.Model.Heads)
			}
			heads += n
		}
	}
	switch {
	case heads == 0:
		return libxlErr(libvirt.ErrOperationInvalid, "no screens to take screenshot from")
	case screen >= heads:
		return libxlErr(libvirt.ErrOperationInvalid, "no such screen ID")
	case screen > 0:
		return libxlErr(libvirt.ErrOperationUnsupported, "Xen's device model shows only the first screen")
	}
	return nil
}

// maxSendKeys is VIR_DOMAIN_SEND_KEY_MAX_KEYS.
const maxSendKeys = 16

// SendKey is virDomainSendKey (flags: none), which libvirt's libxl driver
// lacks, as libvirt's QEMU driver does it (qemuDomainSendKey): the codes,
// of any of libvirt's codesets, as QEMU's key numbers to the guest's
// device model, which presses them together, holds them holdMs (its
// default when 0) and releases them. A guest without a device model has
// no keyboard to press them on.
func (drv *Driver) SendKey(ctx context.Context, dom Domain, codeset, holdMs uint32, codes []uint32, flags uint32) error {
	// the entry point's checks (libvirt-domain.c)
	switch {
	case len(codes) == 0:
		return virerr.InvalidArg(virerr.FromDomain, "virDomainSendKey", "nkeycodes", "nkeycodes in virDomainSendKey must be greater than zero")
	case !keycode.Set(codeset).Valid():
		return virerr.InvalidArg(virerr.FromDomain, "virDomainSendKey", "codeset", "Unsupported codeset '%d'", codeset)
	case len(codes) > maxSendKeys:
		return virerr.InvalidArg(virerr.FromDomain, "virDomainSendKey", "nkeycodes", "nkeycodes must be <= %d", maxSendKeys)
	}
	if err := checkFlags(flags, 0, "libxlDomainSendKey"); err != nil {
		return err
	}
	keys := make([]uint32, len(codes))
	for i, c := range codes {
		k, ok := keycode.ToQNum(keycode.Set(codeset), c)
		if !ok {
			return libxlErr(libvirt.ErrInternalError, "cannot translate keycode %d of %s codeset to qnum keycode", c, keycode.Set(codeset))
		}
		keys[i] = k
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	sender, ok := drv.be.(backend.KeySender)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainSendKey")
	}
	id := d.snap().ref.ID
	if err := sender.SendKeys(ctx, backend.DomID(id), keys, holdMs); err != nil {
		return libxlFailed(err, "Failed to send keys to domain '%d'", id)
	}
	return nil
}
