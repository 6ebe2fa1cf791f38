// Package virerr holds the typed errors that travel from the driver to the
// wire. Code numbers are libvirt's (go-libvirt's ErrorNumber); the domain says
// which part of libvirt reports it. rpc turns an *Error into remote_error in
// exactly one place; everything else only builds or inspects them.
package virerr

import (
	"errors"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"
)

// Domain is libvirt's virErrorDomain: which component raised the error.
type Domain int32

// The error domains this daemon reports (values of libvirt's VIR_FROM_*).
const (
	FromNone   Domain = 0
	FromXML    Domain = 5
	FromDom    Domain = 6
	FromRPC    Domain = 7
	FromConf   Domain = 9
	FromXenXM  Domain = 15
	FromDomain Domain = 20
	FromLibxl  Domain = 41
	FromAdmin  Domain = 62
	FromXenXL  Domain = 64
)

// Code is libvirt's virErrorNumber.
type Code = libvirt.ErrorNumber

// Error is one libvirt error, as the client will see it.
type Error struct {
	Code   Code
	Domain Domain
	// Message is the full text the client prints, e.g.
	// "Domain not found: no domain with matching name 'x'".
	Message string
	// Str1 is libvirt's message template for the code, Str2 the detail;
	// libvirt fills the wire's str1/str2 this way.
	Str1, Str2 string
	Int1, Int2 int32
}

func (e *Error) Error() string { return e.Message }

// New builds an error whose message is libvirt's prefix for code followed by
// the formatted detail, as virReportError does. An empty format gives the
// bare prefix.
func New(dom Domain, code Code, format string, args ...any) *Error {
	detail := ""
	if format != "" {
		detail = fmt.Sprintf(format, args...)
	}
	prefix, withInfo := messageFor(code)
	e := &Error{Code: code, Domain: dom, Int1: -1, Int2: -1}
	if detail == "" {
		e.Message, e.Str1 = prefix, prefix
		return e
	}
	e.Message = fmt.Sprintf(withInfo, detail)
	e.Str1, e.Str2 = withInfo, detail
	return e
}

// As returns err as an *Error; any other error becomes an internal error
// carrying its text, so nothing reaches a client without a code.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return New(FromNone, libvirt.ErrInternalError, "%s", err.Error())
}

// Is reports whether err is a libvirt error with the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// UnsupportedFlags is virCheckFlags' error: flags are the bits fn does not
// accept. libvirt raises it through virReportInvalidArg, so the message
// has no "invalid argument" prefix, str1 is the function, str2 "flags"
// and int1, int2 are 0.
func UnsupportedFlags(dom Domain, flags uint32, fn string) *Error {
	return &Error{
		Code: libvirt.ErrInvalidArg, Domain: dom,
		Message: fmt.Sprintf("unsupported flags (0x%x) in function %s", flags, fn),
		Str1:    fn, Str2: "flags",
	}
}
