package driver

import (
	"os"
	"strings"
	"testing"
	"time"

	"virtxend/internal/domxml"
)

// TestSavedDefinitionDumpxml: an inactive domain's dumpxml is its saved
// text, the same before and after a restart (which loads it unparsed),
// and its secrets only with FormatSecure.
func TestSavedDefinitionDumpxml(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	d := define(t, drv, "saved", 1, `<devices><graphics type='vnc' port='-1' autoport='yes' passwd='sesame'/></devices>`)
	views := map[uint32]string{}
	for _, f := range []domxml.FormatFlag{0, domxml.FormatSecure, domxml.FormatInactive, domxml.FormatMigratable} {
		x, err := drv.GetXMLDesc(ctx, d, uint32(f))
		if err != nil {
			t.Fatal(err)
		}
		views[uint32(f)] = x
	}
	if strings.Contains(views[0], "sesame") || !strings.Contains(views[uint32(domxml.FormatSecure)], "sesame") {
		t.Fatalf("secrets: plain %q, secure %q", views[0], views[uint32(domxml.FormatSecure)])
	}
	file, err := os.ReadFile(drv.configPath("saved"))
	if err != nil || !strings.HasSuffix(string(file), views[uint32(domxml.FormatSecure)]) {
		t.Fatalf("config file %q does not end with the secure view (%v)", file, err)
	}
	drv.Close()
	h.Close()
	drv, _ = e.start()
	for f, want := range views {
		for range 2 { // formatted once after the restart, then the text
			got, err := drv.GetXMLDesc(ctx, d, f)
			if err != nil || got != want {
				t.Fatalf("flags %d after restart: %v\n%s\nwant\n%s", f, err, got, want)
			}
		}
	}
}

// TestLoadUnparsedBrokenConfig: a config laid out as the daemon writes
// one is loaded without parsing it, so one edited by hand into something
// that does not parse is listed; it cannot start. One laid out otherwise
// is parsed at load and, broken, refused there as before.
func TestLoadUnparsedBrokenConfig(t *testing.T) {
	e := newEnv(t)
	editSavedConfig(t, e, "edited", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>lots</memory>")
	os.WriteFile(e.root.DomainConfigDir()+"/other.xml", []byte("<domain type='xen'><name>other</name><memory>x</memory></domain>"), 0o600)
	drv, _ := e.start()
	if _, err := drv.LookupByName(ctx, "other"); err == nil {
		t.Fatal("a broken config of another layout was loaded")
	}
	d, err := drv.LookupByName(ctx, "edited")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drv.Create(ctx, d, 0); err == nil || !strings.Contains(err.Error(), "cannot parse the config") {
		t.Fatalf("start of an unparsable config: %v", err)
	}
}

func TestPackRoundTrip(t *testing.T) {
	for _, s := range []string{"", "<domain/>", packDict, strings.Repeat("x", 100000)} {
		got, err := unpack(pack(s))
		if err != nil || got != s {
			t.Fatalf("unpack(pack(%.40q)) = %.40q, %v", s, got, err)
		}
	}
}

// TestDefinePacksLater: a defined domain's saved text is deflated a
// moment after the define (packLater), and its dumpxml is the same
// before and after.
func TestDefinePacksLater(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	dom := define(t, drv, "later", 1, "")
	before, err := drv.GetXMLDesc(ctx, dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := drv.find(dom)
	if err != nil {
		t.Fatal(err)
	}
	packed := func() bool {
		d.mu.Lock()
		x := d.def
		d.mu.Unlock()
		x.mu.Lock()
		defer x.mu.Unlock()
		return x.packed
	}
	for deadline := time.Now().Add(time.Minute); !packed(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the saved text was not packed")
		}
	}
	if after, err := drv.GetXMLDesc(ctx, dom, 0); err != nil || after != before {
		t.Fatalf("dumpxml after packing: %v\n%s\nbefore\n%s", err, after, before)
	}
}

// TestLoadConfigRefusedSince: a config saved before the parser grew
// stricter (values libvirt's parser refuses, which this daemon took until
// the checks of domxml's precheck.go) is still loaded and listed after an
// upgrade, its text kept, as libvirt loads a config that parses but no
// longer validates; a new define of the same is refused.
func TestLoadConfigRefusedSince(t *testing.T) {
	e := newEnv(t)
	editSavedConfig(t, e, "old", "<on_crash>destroy</on_crash>", "<on_crash>explode</on_crash>")
	drv, _ := e.start()
	d, err := drv.LookupByName(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if x, err := drv.GetXMLDesc(ctx, d, 0); err != nil || !strings.Contains(x, "explode") {
		t.Fatalf("the old config's XML: %v\n%s", err, x)
	}
	if _, err := drv.Define(ctx, domXML("new", 2, "<on_crash>explode</on_crash>"), 0); err == nil {
		t.Fatal("a new define with an unknown on_crash action was taken")
	}
}

// editSavedConfig defines domain name on a driver of e, stops it, and
// changes from into to in the config it saved, as an admin's editor or an
// older daemon would have left it.
func editSavedConfig(t *testing.T, e *env, name, from, to string) {
	t.Helper()
	drv, h := e.start()
	define(t, drv, name, 1, "")
	drv.Close()
	h.Close()
	path := e.root.DomainConfigDir() + "/" + name + ".xml"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), from, to, 1)
	if edited == string(b) {
		t.Fatalf("no %s in %s", from, b)
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
}
