package driver

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

func TestMemory(t *testing.T) {
	drv, h := newEnv(t).start()
	d := define(t, drv, "m", 1, "")
	live, config, maximum := uint32(libvirt.DomainMemLive), uint32(libvirt.DomainMemConfig), uint32(libvirt.DomainMemMaximum)
	err := drv.SetMemoryFlags(ctx, d, 1024, live)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	if err := drv.SetMemoryFlags(ctx, d, 512*1024, maximum|config); err != nil {
		t.Fatal(err)
	}
	if m, _ := drv.GetMaxMemory(ctx, d); m != 512*1024 {
		t.Fatalf("max %d", m)
	}
	err = drv.SetMemoryFlags(ctx, d, 1024*1024, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: cannot set memory higher than max memory")
	drv.Create(ctx, d, 0)
	if err := drv.SetMemoryFlags(ctx, d, 200*1024, live|config); err != nil {
		t.Fatal(err)
	}
	info, _ := drv.GetInfo(ctx, d)
	g, _ := h.Guest(ctx, backendID(info, drv, d))
	if info.MemKiB != 200*1024 || g.CurrentMemKiB != 200*1024 || info.MaxMemKiB != 512*1024 {
		t.Fatalf("info %+v guest %+v", info, g)
	}
	x, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if !strings.Contains(x, ">204800</currentMemory>") {
		t.Fatalf("config not updated:\n%s", x)
	}
	err = drv.SetMemoryFlags(ctx, d, 1, 8)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x8) in function libxlDomainSetMemoryFlags")
}

func backendID(_ Info, drv *Driver, d Domain) backendDomID {
	r, _ := drv.LookupByUUID(ctx, d.UUID)
	return backendDomID(r.ID)
}

func TestVCPUs(t *testing.T) {
	drv, h := newEnv(t).start()
	d := define(t, drv, "v", 1, "")
	live, config, maximum := uint32(libvirt.DomainVCPULive), uint32(libvirt.DomainVCPUConfig), uint32(libvirt.DomainVCPUMaximum)
	err := drv.SetVcpusFlags(ctx, d, 2, live|maximum)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: invalid flag combination: (0x5)")
	err = drv.SetVcpusFlags(ctx, d, 0, config)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: nvcpus is zero")
	err = drv.SetVcpusFlags(ctx, d, 2, live)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: cannot set vcpus on an inactive domain")
	err = drv.SetVcpusFlags(ctx, d, 3, config)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: requested vcpus is greater than max allowable vcpus for the domain: 3 > 2")
	if err := drv.SetVcpusFlags(ctx, d, 3, config|maximum); err != nil {
		t.Fatal(err)
	}
	if err := drv.SetVcpusFlags(ctx, d, 3, config); err != nil {
		t.Fatal(err)
	}
	if n, _ := drv.GetVcpusFlags(ctx, d, maximum); n != 3 {
		t.Fatalf("max %d", n)
	}
	_, err = drv.GetMaxVcpus(ctx, d)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain is not running")
	started, _ := drv.Create(ctx, d, 0)
	if err := drv.SetVcpusFlags(ctx, d, 1, live); err != nil {
		t.Fatal(err)
	}
	if n, _ := drv.GetVcpusFlags(ctx, d, 0); n != 1 {
		t.Fatalf("live vcpus %d", n)
	}
	if n, _ := drv.GetVcpusFlags(ctx, d, config); n != 3 {
		t.Fatalf("config vcpus %d", n)
	}
	if g, _ := h.Guest(ctx, backendDomID(started.ID)); g.VCPUsOnline != 1 {
		t.Fatalf("guest vcpus %d", g.VCPUsOnline)
	}
	if m, _ := drv.GetMaxVcpus(ctx, d); m != 3 {
		t.Fatalf("max vcpus %d", m)
	}
}

func str(s string) *string { return &s }

func TestMetadata(t *testing.T) {
	drv, _ := newEnv(t).start()
	w := watch(t, drv)
	d := define(t, drv, "md", 1, "")
	w.expect(lc{"md", evDefined, 0})
	title, desc, elem := int32(libvirt.DomainMetadataTitle), int32(libvirt.DomainMetadataDescription), int32(libvirt.DomainMetadataElement)
	_, err := drv.GetMetadata(ctx, d, title, nil, 0)
	wantErr(t, err, libvirt.ErrNoDomainMetadata, virerr.FromDomain, "metadata not found: Requested metadata element is not present")
	if err := drv.SetMetadata(ctx, d, title, str("Hello"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := drv.GetMetadata(ctx, d, title, nil, 0); v != "Hello" {
		t.Fatalf("title %q", v)
	}
	err = drv.SetMetadata(ctx, d, title, str("a\nb"), nil, nil, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: metadata title can't contain newlines")
	err = drv.SetMetadata(ctx, d, desc, str("x"), nil, str("urn:x"), 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: uri in virDomainSetMetadata must be NULL")
	err = drv.SetMetadata(ctx, d, elem, str("<a/>"), nil, str("urn:x"), 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: key in virDomainSetMetadata must not be NULL")

	if err := drv.SetMetadata(ctx, d, elem, str(`<app n="1"><item>x &amp; y</item></app>`), str("my"), str("http://example.org/app"), 0); err != nil {
		t.Fatal(err)
	}
	if err := drv.SetMetadata(ctx, d, elem, str(`<other/>`), str("o"), str("urn:other"), 0); err != nil {
		t.Fatal(err)
	}
	// libvirt returns the element without its prefix and, as dumpxml
	// does, indented (virsh metadata and dumpxml on libvirt's test driver).
	v, err := drv.GetMetadata(ctx, d, elem, str("http://example.org/app"), 0)
	if err != nil || v != "<app n=\"1\">\n  <item>x &amp; y</item>\n</app>" {
		t.Fatalf("element %q %v", v, err)
	}
	x, _ := drv.GetXMLDesc(ctx, d, 0)
	wantXML := "  <metadata>\n" +
		"    <my:app xmlns:my=\"http://example.org/app\" n=\"1\">\n" +
		"      <my:item>x &amp; y</my:item>\n" +
		"    </my:app>\n" +
		"    <o:other xmlns:o=\"urn:other\"/>\n" +
		"  </metadata>\n"
	if !strings.Contains(x, wantXML) {
		t.Fatalf("metadata XML:\n%s", x)
	}
	// Removing one namespace leaves the other.
	if err := drv.SetMetadata(ctx, d, elem, nil, nil, str("http://example.org/app"), 0); err != nil {
		t.Fatal(err)
	}
	_, err = drv.GetMetadata(ctx, d, elem, str("http://example.org/app"), 0)
	wantErr(t, err, libvirt.ErrNoDomainMetadata, virerr.FromDomain, "")
	if v, _ := drv.GetMetadata(ctx, d, elem, str("urn:other"), 0); v != "<other/>" {
		t.Fatalf("other %q", v)
	}
	for i := 0; i < 4; i++ {
		ev := w.next()
		if ev.ID != events.IDMetadataChange {
			t.Fatalf("event %+v", ev)
		}
	}
	// Refused: a malformed element, a namespace URI XML cannot carry.
	err = drv.SetMetadata(ctx, d, elem, str("<a><b>"), str("k"), str("urn:x"), 0)
	wantErr(t, err, libvirt.ErrXMLDetail, virerr.FromDomain, "at line 1: Premature end of data in tag b line 1\n<a><b>\n------^")
	err = drv.SetMetadata(ctx, d, elem, str("<a/>"), str("k"), str("urn:\x01"), 0)
	wantErr(t, err, libvirt.ErrXMLError, virerr.FromDomain, "")
	if v, _ := drv.GetMetadata(ctx, d, elem, str("urn:other"), 0); v != "<other/>" {
		t.Fatalf("other after refused calls %q", v)
	}
	err = drv.SetMetadata(ctx, d, title, str("t"), nil, nil, uint32(libvirt.DomainAffectLive))
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
}

func TestListAllFilters(t *testing.T) {
	drv, _ := newEnv(t).start()
	a := define(t, drv, "a", 1, "")
	define(t, drv, "b", 2, "")
	drv.Create(ctx, a, uint32(libvirt.DomainStartPaused))
	drv.CreateXML(ctx, domXML("c", 3, ""), 0)
	drv.SetAutostart(ctx, domOf(2), true)
	withSnapshot, _ := drv.find(domOf(3))
	withSnapshot.mu.Lock()
	withSnapshot.snapshotsLocked().Add(&dsnap.Def{Name: "s"})
	withSnapshot.mu.Unlock()
	names := func(flags libvirt.ConnectListAllDomainsFlags) string {
		list, err := drv.ListAll(ctx, uint32(flags))
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, d := range list {
			n = append(n, d.Name)
		}
		return strings.Join(n, ",")
	}
	for flags, want := range map[libvirt.ConnectListAllDomainsFlags]string{
		0:                                   "Domain-0,a,c,b",
		libvirt.ConnectListDomainsActive:    "Domain-0,a,c",
		libvirt.ConnectListDomainsInactive:  "b",
		libvirt.ConnectListDomainsTransient: "c",
		libvirt.ConnectListDomainsPaused:    "a",
		libvirt.ConnectListDomainsRunning | libvirt.ConnectListDomainsShutoff:        "Domain-0,c,b",
		libvirt.ConnectListDomainsAutostart:                                          "b",
		libvirt.ConnectListDomainsPersistent | libvirt.ConnectListDomainsNoAutostart: "Domain-0,a",
		libvirt.ConnectListDomainsHasSnapshot:                                        "c",
		libvirt.ConnectListDomainsNoSnapshot | libvirt.ConnectListDomainsActive:      "Domain-0,a",
		libvirt.ConnectListDomainsHasCheckpoint:                                      "",
		libvirt.ConnectListDomainsNoManagedsave | libvirt.ConnectListDomainsInactive: "b",
	} {
		if got := names(flags); got != want {
			t.Errorf("flags %#x: %q, want %q", flags, got, want)
		}
	}
	if _, err := drv.ListAll(ctx, 1<<16); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if _, err := drv.LookupByID(ctx, 999); !virerr.Is(err, libvirt.ErrNoDomain) {
		t.Fatal(err)
	}
}

func TestNode(t *testing.T) {
	drv, _ := newEnv(t).start()
	ni, err := drv.NodeGetInfo(ctx)
	if err != nil || ni.CPUs != 4 || ni.MemKiB != 16384*1024 || ni.MHz != 2400 || ni.Model != "x86_64" {
		t.Fatalf("%+v %v", ni, err)
	}
	free, _ := drv.NodeGetFreeMemory(ctx)
	if free != (16384-4096)*1024*1024 {
		t.Fatalf("free %d", free)
	}
}

// TestOSType: virDomainGetOSType of a PV guest is "xen", which libvirt
// keeps for the "linux" of its XML (virsh dominfo's "OS Type: xen", as
// test/xen's oracle shows it); HVM and PVH guests answer their own.
func TestOSType(t *testing.T) {
	drv, _ := newEnv(t).start()
	for _, c := range []struct{ xml, want string }{
		{"<domain type='xen'><name>pv</name><memory>131072</memory><os><type>linux</type><kernel>/k</kernel></os></domain>", "xen"},
		{"<domain type='xen'><name>pv2</name><memory>131072</memory><os><type>xen</type><kernel>/k</kernel></os></domain>", "xen"},
		{"<domain type='xen'><name>hvm</name><memory>131072</memory><os><type>hvm</type></os></domain>", "hvm"},
		{"<domain type='xen'><name>pvh</name><memory>131072</memory><os><type>xenpvh</type><kernel>/k</kernel></os></domain>", "xenpvh"},
	} {
		d, err := drv.Define(ctx, c.xml, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := drv.GetOSType(ctx, d); err != nil || got != c.want {
			t.Errorf("%s: OS type %q %v, want %q", d.Name, got, err, c.want)
		}
	}
}
