package virerr

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func TestNewUsesLibvirtsTexts(t *testing.T) {
	for _, c := range []struct {
		e               *Error
		msg, str1, str2 string
	}{
		{New(FromLibxl, libvirt.ErrNoDomain, ""), "Domain not found", "Domain not found", ""},
		{New(FromLibxl, libvirt.ErrNoDomain, "no domain with matching name '%s'", "x"),
			"Domain not found: no domain with matching name 'x'", "Domain not found: %s", "no domain with matching name 'x'"},
		{New(FromDomain, libvirt.ErrNoSource, "%s", "xvda"), "missing source information for device xvda",
			"missing source information for device %s", "xvda"},
		// xenFormatNet's error for a network that does not exist, as
		// test/xen's oracle saw libvirt answer domxml-to-native
		{New(FromXenXL, libvirt.ErrNoNetwork, "%s", "xenbr0"), "Network not found: xenbr0", "Network not found: %s", "xenbr0"},
		{New(FromRPC, libvirt.ErrRPC, "%s", "Unable to decode message payload"), "Unable to decode message payload", "%s",
			"Unable to decode message payload"},
		// virDomainSnapshotLookupByName's answer for a name it lacks
		{New(FromDomainSnapshot, libvirt.ErrNoDomainSnapshot, "no domain snapshot with matching name '%s'", "s1"),
			"Domain snapshot not found: no domain snapshot with matching name 's1'", "Domain snapshot not found: %s",
			"no domain snapshot with matching name 's1'"},
	} {
		if w := c.e.Wire(); w.Message != c.msg || w.Str1 != c.str1 || w.Str2 != c.str2 || w.Int1 != -1 || w.Int2 != -1 {
			t.Errorf("%+v, want message %q str1 %q str2 %q", c.e, c.msg, c.str1, c.str2)
		}
	}
}

func TestUnsupportedFlags(t *testing.T) {
	e := UnsupportedFlags(FromLibxl, 0x400, "libxlDomainShutdownFlags").Wire()
	if e.Code != libvirt.ErrInvalidArg || e.Domain != FromLibxl ||
		e.Message != "unsupported flags (0x400) in function libxlDomainShutdownFlags" ||
		e.Str1 != "libxlDomainShutdownFlags" || e.Str2 != "flags" || e.Int1 != 0 || e.Int2 != 0 {
		t.Errorf("%+v", e)
	}
}

func TestAsAndIs(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", New(FromLibxl, libvirt.ErrOperationInvalid, "x"))
	if e := As(wrapped); e.Code != libvirt.ErrOperationInvalid || !Is(wrapped, libvirt.ErrOperationInvalid) {
		t.Errorf("wrapped: %+v", e)
	}
	fire := errors.New("disk on fire")
	plain := As(fire)
	if plain.Code != libvirt.ErrInternalError || plain.Error() != "internal error: disk on fire" || !errors.Is(plain, fire) {
		t.Errorf("plain error became %+v", plain)
	}
	if As(nil) != nil || Is(nil, libvirt.ErrInternalError) {
		t.Error("nil is not an error")
	}
}

// TestSystem: virReportSystemError's form, as libvirt-python shows it for a
// daemon socket that is not there: code 38, "%s" in str1, the errno in int1.
func TestSystem(t *testing.T) {
	cause := &os.PathError{Op: "dial", Path: "/run/libvirt/libvirt-sock", Err: syscall.ENOENT}
	e := System(FromRPC, cause, "Failed to connect socket to '%s'", "/run/libvirt/libvirt-sock")
	w := e.Wire()
	want := "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"
	if w.Code != libvirt.ErrSystemError || w.Domain != FromRPC || w.Message != want || w.Str1 != "%s" ||
		w.Str2 != want || w.Int1 != 2 || !errors.Is(e, syscall.ENOENT) {
		t.Errorf("%+v", w)
	}
}

// TestInvalidArg: virReportInvalidArg's form, e.g. virCheckNonNegativeArg
// in virDomainGetCPUStats.
func TestInvalidArg(t *testing.T) {
	w := InvalidArg(FromDomain, "virDomainGetCPUStats", "start_cpu", "%s in %s must be zero or greater", "start_cpu", "virDomainGetCPUStats").Wire()
	if w.Code != libvirt.ErrInvalidArg || w.Domain != FromDomain || w.Message != "start_cpu in virDomainGetCPUStats must be zero or greater" ||
		w.Str1 != "virDomainGetCPUStats" || w.Str2 != "start_cpu" || w.Int1 != 0 || w.Int2 != 0 {
		t.Errorf("%+v", w)
	}
}
