package xlcfg

import (
	"errors"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

func TestParseErrorsNameLineAndKey(t *testing.T) {
	for _, c := range []struct {
		cfg  string
		line int
		key  string
		code libvirt.ErrorNumber
		msg  string
	}{
		{"name = \"a\"\nmemory = [ 1 ]\n", 2, "memory", libvirt.ErrInternalError, "config value memory was malformed"},
		{"name = \"a\"\n\nvcpus = \"many\"\n", 3, "vcpus", libvirt.ErrInternalError, "config value vcpus was malformed"},
		{"memory = 4\n", 0, "name", libvirt.ErrInternalError, "config value name was missing"},
		{"name = \"a\"\nuuid = \"zz\"\n", 2, "uuid", libvirt.ErrConfSyntax, "zz not parseable"},
		{"name = \"a\"\non_crash = \"explode\"\n", 2, "on_crash", libvirt.ErrInternalError, "unexpected value explode for on_crash"},
		{"name = \"a\"\ntype = \"arm\"\n", 2, "type", libvirt.ErrConfigUnsupported, "type arm is not supported"},
		{"name = \"a\"\nvif = [ \"mac=zz\" ]\n", 2, "vif", libvirt.ErrInternalError, "malformed mac address 'zz'"},
		{"name = \"a\"\n\ndisk = [ \"format=foo,vdev=xvda,target=/x\" ]\n", 3, "disk", libvirt.ErrInternalError, "unknown value for format: foo"},
		{"name = \"a\"\ncpuid = \"0x1:ecx=x\"\n", 2, "cpuid", libvirt.ErrConfSyntax, "cpuid starting with 0x1:ecx=x is not supported"},
		{"name = \"a\"\nbuilder = \"hvm\"\nserial = \"bogus:x\"\n", 3, "serial", libvirt.ErrInternalError, "unknown chr device type 'bogus'"},
		{"name = \"a\"\nmemory = -4\n", 2, "memory", libvirt.ErrInternalError, "config value memory was malformed"},
		{"name = \"a\"\nbuilder = \"hvm\"\npae = -1\n", 3, "pae", libvirt.ErrInternalError, "config value pae was malformed"},
		{"name = \"a\"\nmemory = \n", 2, "memory", libvirt.ErrConfSyntax, ""},
		{"name = \"a\"\nvif = [ \"mac=00:16:3e:00:00:01,rate=fast\" ]\n", 2, "vif", libvirt.ErrInternalError, "Invalid rate 'fast' specified"},
	} {
		_, err := ToXML([]byte(c.cfg), XL, Options{})
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: got %v, want an *Error", c.cfg, err)
			continue
		}
		if e.Line != c.line || e.Key != c.key || libvirt.ErrorNumber(e.Code) != c.code || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: got line %d key %q code %d %q; want line %d key %q code %d %q",
				c.cfg, e.Line, e.Key, e.Code, e.Msg, c.line, c.key, c.code, c.msg)
		}
		if c.line > 0 && !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: message %q does not name the key", c.cfg, err)
		}
	}
}

func TestUnsupportedSettingsReported(t *testing.T) {
	cfg := "name = \"a\"\nmemory = 256\nvcpus = 1\nshadow_memory = 8\nvif = [ ]\nnomigrate = 1\n"
	r, err := ToXML([]byte(cfg), XL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Unsupported{{"shadow_memory", 4}, {"nomigrate", 6}}
	if len(r.Unsupported) != len(want) {
		t.Fatalf("unsupported = %v, want %v", r.Unsupported, want)
	}
	for i := range want {
		if r.Unsupported[i] != want[i] {
			t.Errorf("unsupported[%d] = %v, want %v", i, r.Unsupported[i], want[i])
		}
	}
	// xm has no "cmdline": it is reported, not silently used.
	r, err = ToXML([]byte("name = \"a\"\ncmdline = \"x\"\n"), XM, Options{})
	if err != nil || len(r.Unsupported) != 1 || r.Unsupported[0].Key != "cmdline" {
		t.Errorf("xm cmdline: %v %v", r, err)
	}
}

func TestFormatErrors(t *testing.T) {
	// libvirt 9.0 and 11.3: from xen-sxpr is "no longer supported", to it an
	// unknown format (test/xen's oracle-native)
	if _, err := ToXML([]byte("name = \"a\"\n"), "xen-sxpr", Options{}); err == nil ||
		err.Error() != "conversion from 'xen-sxpr' format is no longer supported" ||
		Virerr(err, virerr.FromLibxl).Code != libvirt.ErrOperationUnsupported {
		t.Errorf("xen-sxpr: %v", err)
	}
	if _, err := ToXML([]byte("name = \"a\"\n"), "xen-foo", Options{}); err == nil ||
		err.Error() != "unsupported config type xen-foo" {
		t.Errorf("xen-foo: %v", err)
	}
	// a syntax error is named as virConfReadString names it (oracle-native)
	if _, err := ToXML([]byte("<domain>\n"), XL, Options{}); err == nil ||
		err.Error() != "memory conf:1: expecting a name" {
		t.Errorf("syntax error: %v", err)
	}
	pv := "<domain type='xen'><name>a</name><memory>1024</memory><os><type>linux</type></os></domain>"
	if _, err := ToNative(pv, "xen-sxpr"); err == nil || !strings.Contains(err.Error(), "unsupported config type") {
		t.Errorf("to xen-sxpr: %v", err)
	}
	if _, err := ToNative("<domain", XL); !virerr.Is(err, libvirt.ErrXMLError) && !virerr.Is(err, libvirt.ErrXMLDetail) {
		t.Errorf("bad XML: %v", err)
	}
	serials := "<domain type='xen'><name>a</name><memory>1024</memory><os><type>hvm</type></os>" +
		"<devices><serial type='pty'><target port='0'/></serial><serial type='pty'><target port='1'/></serial></devices></domain>"
	if _, err := ToNative(serials, XM); err == nil || !strings.Contains(err.Error(), "Multiple serial devices are not supported by xen-xm") {
		t.Errorf("xm serials: %v", err)
	}
	if _, err := ToNative(serials, XL); err != nil {
		t.Errorf("xl serials: %v", err)
	}
}
