package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// xlGuest is an xl.cfg written in the order and layout libvirt writes, so
// that converting it to XML and back gives the same bytes.
const xlGuest = `name = "native1"
uuid = "8f07fe28-753f-2729-d76d-bdbd892f949a"
maxmem = 512
memory = 256
vcpus = 2
localtime = 0
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "restart"
vif = [ "mac=00:16:3e:12:34:56,bridge=xenbr0,script=vif-bridge" ]
kernel = "/boot/vmlinuz"
ramdisk = "/boot/initrd.img"
cmdline = "root=/dev/xvda1 console=hvc0"
disk = [ "format=raw,vdev=xvda,access=rw,backendtype=phy,target=/dev/vg/native1" ]
`

func nativeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVirshDomxmlNative(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	xml := d.MustVirsh("domxml-from-native", "xen-xl", nativeFile(t, "g.cfg", xlGuest))
	for _, want := range []string{"<name>native1</name>", "<memory unit='KiB'>524288</memory>",
		"<currentMemory unit='KiB'>262144</currentMemory>", "<vcpu placement='static'>2</vcpu>",
		"<type arch='x86_64' machine='xenpv'>linux</type>", "<cmdline>root=/dev/xvda1 console=hvc0</cmdline>",
		"<source dev='/dev/vg/native1'/>", "<source bridge='xenbr0'/>", "<controller type='xenbus' index='0'/>",
		"<memballoon model='xen'/>"} {
		if !strings.Contains(xml, want) {
			t.Errorf("domxml-from-native lacks %q:\n%s", want, xml)
		}
	}
	// virConnectDomainXMLFromNative refuses read-only connections
	// (virCheckReadOnlyGoto; libvirtd 9.0 answers the same on its -ro socket).
	if r := daemontest.Run(t, "virsh", "-q", "-c", d.ROURI(), "domxml-from-native", "xen-xl",
		nativeFile(t, "ro.cfg", xlGuest)); r.Code == 0 ||
		!strings.Contains(r.Stderr, "operation forbidden: read only access prevents virConnectDomainXMLFromNative") {
		t.Errorf("read-only domxml-from-native: exit %d %s\n%s", r.Code, r.Stderr, r.Stdout)
	}
	cfg := d.MustVirsh("domxml-to-native", "xen-xl", guestFile(t, "native1", xml))
	if strings.TrimRight(cfg, "\n") != strings.TrimRight(xlGuest, "\n") {
		t.Errorf("xl round trip differs:\n%s\nwant:\n%s", cfg, xlGuest)
	}
	// The XML defines as it is: the conversion gives a definition the
	// driver accepts.
	d.MustVirsh("define", guestFile(t, "native1-def", xml))
	if out := d.MustVirsh("dumpxml", "native1"); out != xml {
		t.Errorf("defined domain differs from the converted XML:\n%s\nvs\n%s", out, xml)
	}
}

func TestVirshDomxmlNativeXM(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	cfg := d.MustVirsh("domxml-to-native", "xen-xm", guestFile(t, "pv", pvXML("pv")))
	for _, want := range []string{`name = "pv"`, "maxmem = 256", "maxvcpus = 2", "vcpus = 1",
		`kernel = "/boot/vmlinuz"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("domxml-to-native xen-xm lacks %q:\n%s", want, cfg)
		}
	}
	xml := d.MustVirsh("domxml-from-native", "xen-xm", nativeFile(t, "pv.cfg", cfg))
	if !strings.Contains(xml, "<vcpu placement='static' current='1'>2</vcpu>") {
		t.Errorf("xm round trip lost the vcpus:\n%s", xml)
	}
}

// Strings are written as virConfSaveValue writes them, so that any
// string reads back: one holding both quotes goes in triple quotes.
func TestVirshDomxmlNativeQuotes(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	const cmdline = `init="/bin/sh -c 'echo hi'" quiet`
	xml := strings.Replace(pvXML("quotes"), "</kernel>", "</kernel><cmdline>init=&quot;/bin/sh -c &apos;echo hi&apos;&quot; quiet</cmdline>", 1)
	for _, format := range []string{"xen-xl", "xen-xm"} {
		cfg := d.MustVirsh("domxml-to-native", format, guestFile(t, "quotes", xml))
		want := `"""` + cmdline + `"""`
		if !strings.Contains(cfg, want) {
			t.Errorf("%s: domxml-to-native lacks %s:\n%s", format, want, cfg)
		}
		back := d.MustVirsh("domxml-from-native", format, nativeFile(t, "quotes.cfg", cfg))
		if !strings.Contains(back, "<cmdline>init=&quot;/bin/sh -c &apos;echo hi&apos;&quot; quiet</cmdline>") &&
			!strings.Contains(back, "<cmdline>init=\"/bin/sh -c 'echo hi'\" quiet</cmdline>") {
			t.Errorf("%s: the cfg did not read back its cmdline:\n%s\n%s", format, cfg, back)
		}
	}
}

func TestVirshDomxmlNativeErrors(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"domxml-from-native", "xen-sxpr", nativeFile(t, "a.cfg", xlGuest)},
			"Operation not supported: conversion from 'xen-sxpr' format is no longer supported"},
		{[]string{"domxml-to-native", "xen-sxpr", guestFile(t, "b", pvXML("b"))},
			"invalid argument: unsupported config type xen-sxpr"},
		{[]string{"domxml-from-native", "xen-xl", nativeFile(t, "c.cfg", "name = \"x\"\nmemory = [ 1 ]\n")},
			"config value memory was malformed (line 2, memory)"},
		{[]string{"domxml-from-native", "xen-xl", nativeFile(t, "d.cfg", "name = \"x\"\nvcpus = \n")},
			"configuration file syntax error: memory conf:2: expecting a value"},
	} {
		r := d.Virsh(c.args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("virsh %s: exit %d, stderr %q, want %q", strings.Join(c.args, " "), r.Code, r.Stderr, c.want)
		}
	}
}
