package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestVirtInstall: virt-install creates and starts Xen guests with its
// disks in libvirtd's storage pools and its install media in the guest.
func TestVirtInstall(t *testing.T) {
	d, l := daemontest.StartWithLibvirtd(t)

	t.Run("disk in the default pool", func(t *testing.T) {
		d := d.For(t)
		d.MustVirtTool("virt-install", installArgs("pool1", "none", "--disk", "size=1", "--import")...)
		waitRunning(t, d, "pool1")
		mustContain(t, "pool1's XML", d.MustVirsh("dumpxml", "pool1"),
			"<source file='/var/lib/libvirt/images/pool1.img'/>")
		mustContain(t, "vol-list default", d.MustVirsh("vol-list", "default"), "pool1.img")
		if !l.Exists("/var/lib/libvirt/images/pool1.img") {
			t.Fatal("libvirtd made no pool1.img in the default pool")
		}
	})

	t.Run("disk path in the default pool", func(t *testing.T) {
		d := d.For(t)
		const img = "/var/lib/libvirt/images/path1.img"
		d.MustVirtTool("virt-install", installArgs("path1", "none", "--disk", "path="+img+",size=1", "--import")...)
		waitRunning(t, d, "path1")
		mustContain(t, "path1's XML", d.MustVirsh("dumpxml", "path1"), "<source file='"+img+"'/>")
		if !l.Exists(img) {
			t.Fatalf("libvirtd made no %s", img)
		}
	})

	t.Run("disk path in a new directory pool", func(t *testing.T) {
		d := d.For(t)
		// virt-install defines a pool for a directory that is in none.
		img := filepath.Join(t.TempDir(), "dir1.img")
		d.MustVirtTool("virt-install", installArgs("dir1", "none", "--disk", "path="+img+",size=0.01", "--import")...)
		waitRunning(t, d, "dir1")
		mustContain(t, "dir1's XML", d.MustVirsh("dumpxml", "dir1"), "<source file='"+img+"'/>")
		if st, err := os.Stat(img); err != nil || st.Size() != 10737418 {
			t.Fatalf("the disk virt-install made: %v, %v", st, err)
		}
	})

	t.Run("cdrom", func(t *testing.T) {
		d := d.For(t)
		iso := file(t, "install.iso", 1<<20)
		d.MustVirtTool("virt-install", installArgs("cd1", "none", "--disk", "size=1", "--cdrom", iso)...)
		waitRunning(t, d, "cd1")
		// The guest boots from the ISO while it installs; virt-install's
		// final definition keeps the drive and ejects the ISO.
		live := d.MustVirsh("dumpxml", "cd1")
		mustContain(t, "cd1's live XML", live, "<boot dev='cdrom'/>", "<source file='"+iso+"'/>")
		if i := strings.Index(live, "<source file='"+iso+"'/>"); !strings.Contains(live[strings.LastIndex(live[:i], "<disk "):i], "device='cdrom'") {
			t.Fatalf("the ISO is not a cdrom's:\n%s", live)
		}
		mustContain(t, "cd1's persistent XML", d.MustVirsh("dumpxml", "--inactive", "cd1"), "device='cdrom'")
	})

	t.Run("PV kernel and initrd", func(t *testing.T) {
		d := d.For(t)
		dir := t.TempDir()
		kernel, initrd := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initrd.img")
		os.WriteFile(kernel, []byte("kernel"), 0o644)
		os.WriteFile(initrd, []byte("initrd"), 0o644)
		d.MustVirtTool("virt-install", installArgs("pv1", "none", "--paravirt", "--virt-type", "xen",
			"--disk", "size=1", "--install", "kernel="+kernel+",initrd="+initrd+",kernel_args=console=hvc0")...)
		waitRunning(t, d, "pv1")
		// virt-install copies the kernel and initrd to /var/lib/xen (of a
		// Xen host, where libxl reads them), with names of its own.
		mustContain(t, "pv1's live XML", d.MustVirsh("dumpxml", "pv1"),
			"machine='xenpv'>linux</type>", "<kernel>/var/lib/xen/virtinst-", "vmlinuz</kernel>",
			"<initrd>/var/lib/xen/virtinst-", "initrd.img</initrd>", "<cmdline>console=hvc0</cmdline>")
	})

	t.Run("network default", func(t *testing.T) {
		d := d.For(t)
		r := d.VirtTool("virt-install", installArgs("net1", "network=default", "--disk", "size=1", "--import")...)
		if r.Code != 0 && strings.Contains(r.Stderr+r.Stdout, "unsupported interface type network") {
			t.Skip("the daemon does not resolve <interface type='network'> through libvirt's network driver yet " +
				"(issue 12, being built in another branch): virt-install says 'unsupported interface type network'")
		}
		if r.Code != 0 {
			t.Fatalf("virt-install: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		waitRunning(t, d, "net1")
		// As libvirt shows a network interface once it is resolved: the
		// network, and the bridge the network gave it.
		mustContain(t, "net1's live XML", d.MustVirsh("dumpxml", "net1"),
			"<interface type='network'>", "<source network='default'", "bridge='virbr0'")
	})
}
