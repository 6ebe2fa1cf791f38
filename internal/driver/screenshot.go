package driver

import (
	"context"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/job"
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
	tmp, err := os.CreateTemp(drv.paths.LibDir(), "screendump.")
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
