package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// alignDomain is a PV guest with disks on files in dir: xvda (a.qcow2),
// xvdb (b.img), xvdc (a.raw, same base name as xvda), an empty cdrom
// xvdd and extra disks as given.
func alignDomain(t *testing.T, dir, extra string) *libvirtxml.Domain {
	t.Helper()
	for _, f := range []string{"a.qcow2", "b.img", "a.raw"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	disk := func(file, dev, attrs string) string {
		return "<disk type='file' device='disk'" + attrs + "><source file='" + filepath.Join(dir, file) +
			"'/><target dev='" + dev + "'/></disk>"
	}
	d, err := domxml.Parse("<domain type='xen'><name>vm</name><memory>262144</memory>" +
		"<os><type>linux</type><kernel>/k</kernel></os><devices>" +
		disk("a.qcow2", "xvda", "") + disk("b.img", "xvdb", " snapshot='no'") + disk("a.raw", "xvdc", "") +
		"<disk type='file' device='cdrom'><target dev='xvdd'/></disk>" + extra + "</devices></domain>")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func alignDef(t *testing.T, disks string) *Def {
	t.Helper()
	def, err := Parse("<domainsnapshot><name>s1</name><disks>"+disks+"</disks></domainsnapshot>", 0)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func summary(def *Def) string {
	var b []string
	for _, d := range def.Disks {
		s := d.Name + ":" + d.Snapshot.String()
		if p := d.Path(); p != "" {
			s += ":" + filepath.Base(p)
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestAlignDisks(t *testing.T) {
	dir := t.TempDir()
	dom := alignDomain(t, dir, "")
	a := filepath.Join(dir, "a.qcow2")
	cases := []struct {
		name, disks    string
		dflt           Location
		uniform, force bool
		want           string
	}{
		{"defaults internal", "", LocationInternal, false, false,
			"xvda:internal xvdb:no xvdc:internal xvdd:no"},
		{"force overrides the domain's no", "", LocationInternal, false, true,
			"xvda:internal xvdb:internal xvdc:internal xvdd:no"},
		{"by source path, renamed", "<disk name='" + a + "' snapshot='internal'/>", LocationNo, false, false,
			"xvda:internal xvdb:no xvdc:no xvdd:no"},
		{"asked default takes the domain's", "<disk name='xvdb'/>", LocationInternal, false, false,
			"xvda:internal xvdb:no xvdc:internal xvdd:no"},
		{"uniform internal keeps no where the domain says no", "<disk name='xvdb' snapshot='no'/>", LocationInternal, true, false,
			"xvda:internal xvdb:no xvdc:internal xvdd:no"},
		{"given file", "<disk name='xvda'><source file='/new/a.s1'/></disk><disk name='xvdc' snapshot='no'/>", LocationExternal, false, false,
			"xvda:external:a.s1 xvdb:no xvdc:no xvdd:no"},
	}
	for _, c := range cases {
		def := alignDef(t, c.disks)
		def.Dom = domxml.Copy(dom)
		if err := AlignDisks(def, nil, c.dflt, c.uniform, c.force); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := summary(def); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// External names replace the source's suffix with the snapshot's name.
func TestAlignDisksExternalNames(t *testing.T) {
	dir := t.TempDir()
	dom := alignDomain(t, dir, "")
	def := alignDef(t, "<disk name='xvdc' snapshot='no'/>")
	if err := AlignDisks(def, dom, LocationExternal, false, false); err != nil {
		t.Fatal(err)
	}
	if got := summary(def); got != "xvda:external:a.s1 xvdb:no xvdc:no xvdd:no" {
		t.Errorf("%s", got)
	}
	if p := def.Disks[0].Path(); p != filepath.Join(dir, "a.s1") || def.Disks[0].Type != "file" {
		t.Errorf("%q", p)
	}
}

func TestAlignDisksErrors(t *testing.T) {
	dir := t.TempDir()
	dom := alignDomain(t, dir, "")
	vol := alignDomain(t, t.TempDir(), "<disk type='volume' device='disk'><source pool='p' volume='v'/><target dev='xvde'/></disk>")
	missing := alignDomain(t, t.TempDir(), "<disk type='file' device='disk'><source file='/nonexistent/x.img'/><target dev='xvde'/></disk>")
	cases := []struct {
		name, disks string
		dom         *libvirtxml.Domain
		dflt        Location
		uniform     bool
		msg         string
	}{
		{"unknown", "<disk name='xvdz'/>", dom, LocationInternal, false, "no disk named 'xvdz'"},
		{"twice", "<disk name='xvda'/><disk name='" + filepath.Join(dir, "a.qcow2") + "'/>", dom, LocationInternal, false,
			"disk '" + filepath.Join(dir, "a.qcow2") + "' specified twice"},
		{"uniform", "<disk name='xvda' snapshot='external'/>", dom, LocationInternal, true,
			"disk 'xvda' must use snapshot mode 'internal'"},
		{"uniform no", "<disk name='xvda' snapshot='no'/>", dom, LocationInternal, true,
			"disk 'xvda' must use snapshot mode 'internal'"},
		{"file needs external", "<disk name='xvda' snapshot='internal'><source file='/x'/></disk>", dom, LocationInternal, false,
			"file '/x' for disk 'xvda' requires use of external snapshot mode"},
		{"block", "<disk name='xvda' snapshot='external' type='block'/>", dom, LocationInternal, false,
			"cannot generate external snapshot name for disk 'xvda' on a 'block' device"},
		{"collision", "", dom, LocationExternal, false,
			"cannot generate external snapshot name for disk 'xvdc': collision with disk 'xvda'"},
		{"no source", "<disk name='xvdc' snapshot='no'/>", vol, LocationExternal, false,
			"cannot generate external snapshot name for disk 'xvde' without source"},
		{"not a file", "<disk name='xvdc' snapshot='no'/>", missing, LocationExternal, false,
			"source for disk 'xvde' is not a regular file; refusing to generate external snapshot name"},
		{"too many", "<disk name='a'/><disk name='b'/><disk name='c'/><disk name='d'/><disk name='e'/>", dom, LocationInternal, false,
			"too many disk snapshot requests for domain"},
		{"no domain", "", nil, LocationInternal, false, "internal error: missing domain in snapshot"},
	}
	for _, c := range cases {
		def := alignDef(t, c.disks)
		err := AlignDisks(def, c.dom, c.dflt, c.uniform, false)
		e := virerr.As(err)
		want := "unsupported configuration: " + c.msg
		if strings.HasPrefix(c.msg, "internal error") {
			want = c.msg
		}
		if err == nil || e.Domain != virerr.FromDomainSnapshot || e.Error() != want {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if !virerr.Is(AlignDisks(&Def{}, nil, 0, false, false), libvirt.ErrInternalError) {
		t.Error("no domain accepted")
	}
}
