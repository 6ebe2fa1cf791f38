package libxl

import (
	"fmt"

	"virtxend/internal/backend"
)

// libxl's error codes (libxl_error in libxl_types.idl) that callers tell
// apart.
const (
	errFail           = -3
	errNoMem          = -5
	errInval          = -6
	errTimedOut       = -9
	errDomainNotFound = -21
	errAborted        = -22
	errNotFound       = -23
	errDomainDestroy  = -24
)

// Error is a failed libxl call: which call, libxl's error code and name,
// and the last error libxl logged during it.
type Error struct {
	Op      string // e.g. "libxl_domain_create_new"
	Code    int    // libxl's ERROR_* value, negative
	Name    string // libxl_error_to_string, e.g. "DOMAIN_NOTFOUND"
	Message string // libxl's own message, may be empty
}

func (e *Error) Error() string {
	name := e.Name
	if name == "" {
		name = fmt.Sprintf("error %d", e.Code)
	}
	if e.Message != "" {
		return fmt.Sprintf("%s failed: %s: %s", e.Op, name, e.Message)
	}
	return fmt.Sprintf("%s failed: %s", e.Op, name)
}

// Unwrap gives the backend error kind, so the driver can match it with
// errors.Is whatever the backend.
func (e *Error) Unwrap() error {
	switch e.Code {
	case errDomainNotFound, errNotFound, errDomainDestroy:
		return backend.ErrNoGuest
	case errNoMem:
		return backend.ErrNoMemory
	case errInval:
		return backend.ErrInvalid
	}
	return backend.ErrFailed
}
