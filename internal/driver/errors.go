package driver

import (
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/virerr"
)

// Errors are built here with libvirt's codes, domains and texts. The
// domain says which part of libvirt raises the error: the libxl driver
// (VIR_FROM_LIBXL), the shared domain code (VIR_FROM_DOMAIN) for checks
// libvirt makes in domain_conf.c / virdomainobjlist.c / libvirt-domain.c.

func libxlErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromLibxl, code, format, args...)
}

// libxlFailed is the libxl driver's internal error for a hypervisor call
// that failed with err, which the error keeps as its cause (for the log and
// errors.Is) while the client reads libvirt's text alone.
func libxlFailed(err error, format string, args ...any) error {
	return virerr.Wrap(err, virerr.FromLibxl, libvirt.ErrInternalError, format, args...)
}

func domainErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromDomain, code, format, args...)
}

// errNoDomainUUID is libxlDomObjFromDomain's error: name is the client's
// name for the domain.
func errNoDomainUUID(uuid backend.UUID, name string) error {
	return libxlErr(libvirt.ErrNoDomain, "no domain with matching uuid '%s' (%s)", uuid, name)
}

// errUnsupportedFlags is virCheckFlags' error; fn is the libvirt function
// name it reports.
func errUnsupportedFlags(dom virerr.Domain, flags uint32, fn string) error {
	return virerr.UnsupportedFlags(dom, flags, fn)
}

func checkFlags(flags, supported uint32, fn string) error {
	if extra := flags &^ supported; extra != 0 {
		return errUnsupportedFlags(virerr.FromLibxl, extra, fn)
	}
	return nil
}

// errJobTimeout is virDomainObjBeginJobInternal's error when the wait for
// the domain's job ran out (VIR_FROM_NONE: it is raised in src/conf).
func errJobTimeout(e *job.TimeoutError) error {
	return virerr.New(virerr.FromNone, libvirt.ErrOperationTimeout, "%s", e.Error())
}

func errDom0() error {
	return libxlErr(libvirt.ErrOperationInvalid, "Domain-0 does not support requested operation")
}

// errNotRunning is virDomainObjCheckActive's error.
func errNotRunning() error {
	return domainErr(libvirt.ErrOperationInvalid, "domain is not running")
}

// errSystem is virReportSystemError: the text followed by the OS error.
func errSystem(err error, format string, args ...any) error {
	return virerr.System(virerr.FromLibxl, err, format, args...)
}

// hostUnsupported is a backend's ErrUnsupported as libvirt's
// OPERATION_UNSUPPORTED, saying why without the sentinel's own words,
// which libvirt's "Operation not supported: " already says.
func hostUnsupported(err error) error {
	return libxlErr(libvirt.ErrOperationUnsupported, "%s", strings.TrimPrefix(err.Error(), backend.ErrUnsupported.Error()+": "))
}
