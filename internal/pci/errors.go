package pci

import (
	"errors"
	"fmt"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// sysfsPCI is where libvirt's messages say the files are. They name the
// real sysfs paths whatever the Bus (a test tree, the simulated host), so a
// client reads what libvirt would have told it.
const sysfsPCI = "/sys/bus/pci/"

func devicePath(a Addr, file string) string {
	return fmt.Sprintf("%sdevices/%s/%s", sysfsPCI, a, file)
}

// internalErr is virReportError(VIR_ERR_INTERNAL_ERROR, ...) from virpci.c,
// whose VIR_FROM_THIS is VIR_FROM_NONE.
func internalErr(format string, args ...any) error {
	return virerr.New(virerr.FromNone, libvirt.ErrInternalError, format, args...)
}

// systemErr is virReportSystemError from virpci.c: the detail, then the
// errno's words. A device that vanished fails as its missing files would,
// with ENOENT; the error still matches ErrNoDevice.
func systemErr(err error, format string, args ...any) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) && errors.Is(err, ErrNoDevice) {
		err = fmt.Errorf("%w: %w", err, syscall.ENOENT)
	}
	return virerr.System(virerr.FromNone, err, format, args...)
}

// openConfigErr is virPCIDeviceConfigOpen's failure.
func openConfigErr(a Addr, err error) error {
	return systemErr(err, "Failed to open config space file '%s'", devicePath(a, "config"))
}
