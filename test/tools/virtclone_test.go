package tools

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestVirtClone: virt-clone clones a shut-off guest with its disk: the
// clone's volume is a new one in the default pool with the original's
// data, and the clone starts.
func TestVirtClone(t *testing.T) {
	d, l := daemontest.StartWithLibvirtd(t)
	d.MustVirtTool("virt-install", installArgs("orig", "none", "--disk", "size=0.01", "--import")...)
	d.MustVirsh("destroy", "orig") // virt-clone copies only a guest that is shut off or paused

	dir := t.TempDir()
	data := bytes.Repeat([]byte("virtxend"), 8192) // 64 KiB at the start of the disk
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	os.WriteFile(up, data, 0o644)
	d.MustVirsh("vol-upload", "--pool", "default", "orig.img", up)

	d.MustVirtTool("virt-clone", "--original", "orig", "--auto-clone")
	const clone = "/var/lib/libvirt/images/orig-clone.img"
	mustContain(t, "vol-list default", d.MustVirsh("vol-list", "default"), "orig-clone.img")
	if !l.Exists(clone) {
		t.Fatalf("libvirtd made no %s", clone)
	}
	d.MustVirsh("vol-download", "--pool", "default", "--length", "65536", "orig-clone.img", down)
	if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
		t.Fatal("the clone's disk does not hold the original's data")
	}

	xml := d.MustVirsh("dumpxml", "orig-clone")
	mustContain(t, "the clone's XML", xml, "<source file='"+clone+"'/>")
	orig := d.MustVirsh("dumpxml", "orig")
	if uuid := between(xml, "<uuid>", "</uuid>"); uuid == "" || uuid == between(orig, "<uuid>", "</uuid>") {
		t.Fatalf("the clone's uuid %q is the original's", uuid)
	}
	d.MustVirsh("start", "orig-clone")
	waitRunning(t, d, "orig-clone")
}

// between is the text of s between the first from and the to after it.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, to)
	return in
}
