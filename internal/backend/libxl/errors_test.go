package libxl

import (
	"errors"
	"testing"

	"virtxend/internal/backend"
)

func TestErrorKinds(t *testing.T) {
	for code, want := range map[int]error{
		errDomainNotFound: backend.ErrNoGuest,
		errNoMem:          backend.ErrNoMemory,
		errInval:          backend.ErrInvalid,
		errFail:           backend.ErrFailed,
		-99:               backend.ErrFailed,
	} {
		e := &Error{Op: "libxl_x", Code: code, Name: "N", Message: "m"}
		if !errors.Is(e, want) {
			t.Errorf("code %d: not %v", code, want)
		}
	}
	e := &Error{Op: "libxl_domain_destroy", Code: errDomainNotFound, Name: "DOMAIN_NOTFOUND", Message: "no such domain 7"}
	if got := e.Error(); got != "libxl_domain_destroy failed: DOMAIN_NOTFOUND: no such domain 7" {
		t.Errorf("message %q", got)
	}
}
