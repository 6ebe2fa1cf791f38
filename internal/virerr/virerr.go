// Package virerr holds the typed errors that travel from the driver to the
// wire. Code numbers are libvirt's (go-libvirt's ErrorNumber); the domain says
// which part of libvirt reports it. Inside the daemon an *Error is a value
// (code, domain, detail, cause); libvirt's message texts are made from it
// in one place, Wire, which rpc calls when it writes remote_error.
package virerr

import (
	"errors"
	"fmt"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"
)

// Domain is libvirt's virErrorDomain: which component raised the error.
type Domain int32

// The error domains this daemon reports (values of libvirt's VIR_FROM_*).
const (
	FromNone    Domain = 0
	FromXML     Domain = 5
	FromDom     Domain = 6
	FromRPC     Domain = 7
	FromConf    Domain = 9
	FromRemote  Domain = 13
	FromXenXM   Domain = 15
	FromStorage Domain = 18
	FromNetwork Domain = 19
	FromCPU     Domain = 31
	FromHook    Domain = 34
	FromDomain  Domain = 20
	FromNodedev Domain = 22
	FromStreams Domain = 38
	FromLibxl   Domain = 41
	FromURI     Domain = 45
	FromAdmin   Domain = 62
	FromXenXL   Domain = 64

	// FromDomainSnapshot is VIR_FROM_DOMAIN_SNAPSHOT: snapshot XML and
	// a domain's snapshot list (src/conf/snapshot_conf.c).
	FromDomainSnapshot Domain = 35
)

// Code is libvirt's virErrorNumber.
type Code = libvirt.ErrorNumber

// Error is an error in libvirt's terms: what went wrong (Code, libvirt's
// kind of failure), which of libvirt's components would report it
// (Domain), and about what (Detail, the text after the code's own words).
// Cause is the underlying Go error, kept for logs and errors.Is; it never
// reaches a client. The text a client reads is made from these only at
// the edge, by Wire.
type Error struct {
	Code   Code
	Domain Domain
	Detail string
	Cause  error
	// argFunc is set for virReportInvalidArg's form (UnsupportedFlags,
	// InvalidArg): the function whose argument is wrong, and argName the
	// argument ("" for flags).
	argFunc, argName string
	// relayed is set for an error another libvirt daemon reported, whose
	// wire form is passed on as it came.
	relayed *Wire
	// errno is a system error's errno, which libvirt sends as int1.
	errno int32
}

// Relayed is an error another libvirt daemon reported (a secondary driver
// virtxend forwards to): the client gets it exactly as that daemon sent it.
func Relayed(w Wire) *Error {
	return &Error{Code: w.Code, Domain: w.Domain, Detail: w.Message, relayed: &w}
}

// New is virReportError: code's words followed by the formatted detail.
// An empty format gives code's words alone.
func New(dom Domain, code Code, format string, args ...any) *Error {
	e := &Error{Code: code, Domain: dom}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	return e
}

// Wrap is New for a failure caused by err, which the error keeps.
func Wrap(err error, dom Domain, code Code, format string, args ...any) *Error {
	e := New(dom, code, format, args...)
	e.Cause = err
	return e
}

// System is virReportSystemError: the formatted detail, ": " and the OS
// error's text as glibc's strerror words it, with the errno in int1. err
// is kept as the cause.
func System(dom Domain, err error, format string, args ...any) *Error {
	e := Wrap(err, dom, libvirt.ErrSystemError, "%s: %s", fmt.Sprintf(format, args...), Strerror(err))
	var errno syscall.Errno
	if errors.As(err, &errno) {
		e.errno = int32(errno)
	}
	return e
}

// Strerror is glibc's wording of an OS error, which Go spells in lower
// case ("No such file or directory"); other errors keep their own text.
func Strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// Error is the message the client will read.
func (e *Error) Error() string { return e.Wire().Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Wire is an error as libvirt's remote_error carries it.
type Wire struct {
	Code   Code
	Domain Domain
	// Message is the text the client prints, e.g. "Domain not found: no
	// domain with matching name 'x'". Str1 is libvirt's message template
	// for the code and Str2 the detail, as virRaiseError fills them; Str3
	// is only ever set by another daemon's errors passed on.
	Message, Str1, Str2, Str3 string
	Int1, Int2                int32
}

// Wire gives the error libvirt's form: the one place message texts are
// made (virErrorMsg, virRaiseErrorFull).
func (e *Error) Wire() Wire {
	if e.relayed != nil {
		return *e.relayed
	}
	w := Wire{Code: e.Code, Domain: e.Domain, Int1: -1, Int2: -1}
	if e.argFunc != "" {
		w.Message = e.Detail
		w.Str1, w.Str2, w.Int1, w.Int2 = e.argFunc, "flags", 0, 0
		if e.argName != "" {
			w.Str2 = e.argName
		}
		return w
	}
	prefix, withInfo := messageFor(e.Code)
	if e.Detail == "" {
		w.Message, w.Str1 = prefix, prefix
		return w
	}
	w.Message = fmt.Sprintf(withInfo, e.Detail)
	w.Str1, w.Str2 = withInfo, e.Detail
	if e.errno != 0 {
		w.Int1 = e.errno
	}
	return w
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
	return Wrap(err, FromNone, libvirt.ErrInternalError, "%s", err.Error())
}

// Is reports whether err is a libvirt error with the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// InvalidArg is virReportInvalidArg and its kin (virCheckNonNullArg,
// virCheckPositiveArg, VIR_EXCLUSIVE_FLAGS_GOTO, ...): VIR_ERR_INVALID_ARG
// with the text alone, no "invalid argument" before it, str1 the function
// and str2 the argument.
func InvalidArg(dom Domain, fn, arg, format string, args ...any) *Error {
	return &Error{Code: libvirt.ErrInvalidArg, Domain: dom, argFunc: fn, argName: arg, Detail: fmt.Sprintf(format, args...)}
}

// UnsupportedFlags is virCheckFlags' error: flags are the bits fn does not
// accept. libvirt raises it through virReportInvalidArg, so the message
// has no "invalid argument" prefix, str1 is the function, str2 "flags"
// and int1, int2 are 0.
func UnsupportedFlags(dom Domain, flags uint32, fn string) *Error {
	return &Error{
		Code: libvirt.ErrInvalidArg, Domain: dom, argFunc: fn,
		Detail: fmt.Sprintf("unsupported flags (0x%x) in function %s", flags, fn),
	}
}
