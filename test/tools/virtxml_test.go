package tools

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestVirtXML: virt-xml edits a running guest's persistent definition
// (--define): memory, and a new disk in the default pool. The running guest
// keeps what it has until it restarts, as virt-xml tells the user.
func TestVirtXML(t *testing.T) {
	d, l := daemontest.StartWithLibvirtd(t)
	d.MustVirtTool("virt-install", installArgs("ed", "none", "--disk", "size=0.01", "--import")...)
	waitRunning(t, d, "ed")

	out := d.MustVirtTool("virt-xml", "ed", "--edit", "--memory", "512", "--define")
	mustContain(t, "virt-xml --edit", out, "Domain 'ed' defined successfully.",
		"Changes will take effect after the domain is fully powered off.")
	d.MustVirtTool("virt-xml", "ed", "--add-device", "--disk", "size=0.01", "--define")
	const added = "/var/lib/libvirt/images/ed-1.img"
	if !l.Exists(added) {
		t.Fatalf("libvirtd made no %s", added)
	}

	persistent := d.MustVirsh("dumpxml", "--inactive", "ed")
	mustContain(t, "the persistent XML", persistent, "<memory unit='KiB'>524288</memory>", "<source file='"+added+"'/>")
	live := d.MustVirsh("dumpxml", "ed")
	if !strings.Contains(live, "<memory unit='KiB'>262144</memory>") || strings.Contains(live, added) {
		t.Fatalf("the running guest changed before a restart:\n%s", live)
	}

	d.MustVirsh("destroy", "ed")
	d.MustVirsh("start", "ed")
	mustContain(t, "the live XML after a restart", d.MustVirsh("dumpxml", "ed"),
		"<memory unit='KiB'>524288</memory>", "<source file='"+added+"'/>")
}

// TestVirtXMLHotplug: virt-xml --update plugs a disk into a running guest
// and unplugs it again (--add-device and --remove-device with --update:
// virt-xml attaches to and detaches from the live guest, then defines the
// change too, as it does unless told --no-define).
func TestVirtXMLHotplug(t *testing.T) {
	d, _ := daemontest.StartWithLibvirtd(t)
	d.MustVirtTool("virt-install", installArgs("hp", "none", "--disk", "size=0.01", "--import")...)
	waitRunning(t, d, "hp")
	disk := file(t, "hot.img", 1<<20)

	out := d.MustVirtTool("virt-xml", "hp", "--add-device", "--disk", disk+",target.dev=xvdc,target.bus=xen", "--update")
	mustContain(t, "virt-xml --add-device --update", out, "Device hotplug successful.")
	mustContain(t, "domblklist after the hotplug", d.MustVirsh("domblklist", "hp"), "xvdc", disk)
	mustContain(t, "domblklist --inactive after the hotplug", d.MustVirsh("domblklist", "hp", "--inactive"), "xvdc", disk)

	out = d.MustVirtTool("virt-xml", "hp", "--remove-device", "--disk", "target=xvdc", "--update")
	mustContain(t, "virt-xml --remove-device --update", out, "Device hotunplug successful.")
	if strings.Contains(d.MustVirsh("domblklist", "hp"), disk) || strings.Contains(d.MustVirsh("domblklist", "hp", "--inactive"), disk) {
		t.Fatal("the disk stayed after the hot-unplug")
	}
}
