package xlcfg

import (
	"errors"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virconf"
	"virtxend/internal/virerr"
)

// libvirt error codes the conversions report.
const (
	codeInternal    = int(libvirt.ErrInternalError)
	codeConfSyntax  = int(libvirt.ErrConfSyntax)
	codeUnsupported = int(libvirt.ErrConfigUnsupported)
	codeNoSupport   = int(libvirt.ErrNoSupport)
	codeInvalidArg  = int(libvirt.ErrInvalidArg)
	codeNoNetwork   = int(libvirt.ErrNoNetwork)
	// libvirt's libxlConnectDomainXMLFromNative refuses the old xend format
	// so (domxml-to-native answers "unsupported config type" for it)
	codeOpUnsupported = int(libvirt.ErrOperationUnsupported)
)

// Error is a conversion error. Line and Key say where in the cfg it is
// (0 and "" when it is not about one setting, e.g. in XML → cfg).
type Error struct {
	Code int // libvirt's virErrorNumber
	Line int
	Key  string
	Msg  string // libvirt's detail text
	// parse marks an error of the config file's syntax, which libvirt's
	// parser reports with the file's name and line
	parse bool
}

func (e *Error) Error() string {
	if e.parse && e.Line > 0 {
		// virConfErrorHelper: a config read from a string (virConfReadString)
		// is named "memory conf"
		return fmt.Sprintf("memory conf:%d: %s", e.Line, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d, %s)", e.Msg, e.Line, e.Key)
	}
	return e.Msg
}

// Virerr converts err to the libvirt error a client sees, in domain dom.
func Virerr(err error, dom virerr.Domain) *virerr.Error {
	var e *Error
	if errors.As(err, &e) {
		return virerr.New(dom, libvirt.ErrorNumber(e.Code), "%s", e.Error())
	}
	return virerr.As(err)
}

func confSyntax(err error) error {
	var ve *virconf.Error
	if errors.As(err, &ve) {
		return &Error{Code: codeConfSyntax, Line: ve.Line, Key: ve.Key, Msg: ve.Msg, parse: true}
	}
	return &Error{Code: codeConfSyntax, Msg: err.Error()}
}

func unsupportedf(format string, args ...any) error {
	return &Error{Code: codeUnsupported, Msg: fmt.Sprintf(format, args...)}
}

func internalf(format string, args ...any) error {
	return &Error{Code: codeInternal, Msg: fmt.Sprintf(format, args...)}
}
