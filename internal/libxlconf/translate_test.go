package libxlconf_test

import (
	"errors"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxlconf/libxlconftest"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

const hvmHead = `<domain type='xen'><name>g</name><uuid>2147d599-9cc6-c0dc-92ab-4064b5446e9b</uuid>` +
	`<memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os>`

const pvHead = `<domain type='xen'><name>g</name><uuid>2147d599-9cc6-c0dc-92ab-4064b5446e9b</uuid>` +
	`<memory>1048576</memory><vcpu>2</vcpu><os><type>linux</type></os>`

// TestBuildErrors: what libxl cannot do is refused with libvirt's
// VIR_ERR_CONFIG_UNSUPPORTED and a message saying what.
func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name, xml, msg string
	}{
		{"parallel", hvmHead + `<devices><parallel type='pty'/></devices></domain>`, "Parallel devices"},
		{"hpet on pv", pvHead + `<clock offset='utc'><timer name='hpet' present='yes'/></clock></domain>`, "unsupported timer type (name) 'hpet'"},
		{"rtc timer", hvmHead + `<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock></domain>`, "unsupported timer type (name) 'rtc'"},
		{"phy qcow2", pvHead + `<devices><disk type='block'><driver name='phy' type='qcow2'/><source dev='/dev/x'/><target dev='xvda'/></disk></devices></domain>`, "disk format qcow2 with disk driver phy"},
		{"disk driver", pvHead + `<devices><disk type='file'><driver name='vbox'/><source file='/x'/><target dev='xvda'/></disk></devices></domain>`, "disk driver vbox"},
		{"rbd colon", pvHead + `<devices><disk type='network'><driver name='qemu'/><source protocol='rbd' name='p/a:b'/><target dev='xvda'/></disk></devices></domain>`, "':' not allowed"},
		{"pv e1000", pvHead + `<devices><interface type='bridge'><source bridge='br0'/><model type='e1000'/></interface></devices></domain>`, "netfront"},
		{"network iface", pvHead + `<devices><interface type='network'><source network='default'/></interface></devices></domain>`, "unsupported interface type network"},
		{"network without resolver", pvHead + `<devices><interface type='network'><source network='default'/><script path='/x'/></interface></devices></domain>`, "only supported with interface types bridge and ethernet"},
		{"transient disk", pvHead + `<devices><disk type='file'><source file='/x'/><target dev='xvda'/><transient/></disk></devices></domain>`, "transient disks"},
		{"usb model", hvmHead + `<devices><controller type='usb' model='piix3-uhci'/></devices></domain>`, "unsupported usb model"},
		{"file qcow2", pvHead + `<devices><disk type='file'><driver name='file' type='qcow2'/><source file='/x'/><target dev='xvda'/></disk></devices></domain>`, "disk format qcow2 with disk driver file"},
		{"video none", hvmHead + `<devices><graphics type='vnc'/><video><model type='none'/></video></devices></domain>`, "video type none is not supported by libxl"},
		{"video vram", hvmHead + `<devices><graphics type='vnc'/><video><model type='vga' vram='8192'/></video></devices></domain>`, "videoram must be at least 16MB for VGA"},
		{"usb keyboard", hvmHead + `<devices><input type='keyboard' bus='usb'/></devices></domain>`, "Unknown input device type"},
		{"usb hostdev", pvHead + `<devices><hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev></devices></domain>`, "needs a bus and device address or a vendor and product"},
		{"spicevmc serial", hvmHead + `<devices><serial type='spicevmc'/></devices></domain>`, "unsupported chardev"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := domxml.Parse(c.xml)
			if err != nil {
				t.Skipf("domxml refuses it first: %v", err)
			}
			_, err = libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
			if err == nil {
				t.Fatal("accepted")
			}
			if !virerr.Is(err, libvirt.ErrConfigUnsupported) {
				t.Errorf("error %v is not VIR_ERR_CONFIG_UNSUPPORTED", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
		})
	}
}

func TestEmulatorChecked(t *testing.T) {
	d, err := domxml.Parse(hvmHead + `<devices><emulator>/nonexistent/qemu</emulator></devices></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	h := libxlconftest.FixtureHost()
	h.CheckEmulator = nil
	_, err = libxlconf.BuildDomainConfig(d, h)
	if err == nil || !strings.Contains(err.Error(), "emulator '/nonexistent/qemu' not found") {
		t.Errorf("got %v", err)
	}
}

func TestGraphicsPortAllocator(t *testing.T) {
	d, err := domxml.Parse(hvmHead + `<devices><graphics type='vnc' autoport='yes'/></devices></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	h := libxlconftest.FixtureHost()
	h.GraphicsPort = func() (int, error) { return 5912, nil }
	c, err := libxlconf.BuildDomainConfig(d, h)
	if err != nil {
		t.Fatal(err)
	}
	if c.VFBs[0].VNC.Display != 12 || c.BInfo.HVM.VNC.Display != 12 {
		t.Errorf("display %d/%d, want 12", c.VFBs[0].VNC.Display, c.BInfo.HVM.VNC.Display)
	}
	if c.GraphicsPorts[0] != 5912 {
		t.Errorf("graphics ports %v, want graphics 0 on 5912", c.GraphicsPorts)
	}
	full := errors.New("no free port")
	h.GraphicsPort = func() (int, error) { return 0, full }
	if _, err := libxlconf.BuildDomainConfig(d, h); !errors.Is(err, full) {
		t.Errorf("allocator error lost: %v", err)
	}
}

func TestShadowMemoryFormula(t *testing.T) {
	// 4 * (256 * vcpus + 2 * MiB): 1 GiB and 2 vCPUs.
	if got := libxlconf.RequiredShadowMemKiB(1048576, 2); got != 4*(512+2048) {
		t.Errorf("got %d", got)
	}
}

func TestVNUMAPlacement(t *testing.T) {
	xml := hvmHead + `<cpu><numa><cell id='0' cpus='0' memory='524288'/><cell id='1' cpus='1' memory='524288'/></numa></cpu></domain>`
	d, err := domxml.Parse(xml)
	if err != nil {
		t.Fatal(err)
	}
	h := libxlconftest.FixtureHost()
	h.NUMANodes = 1
	c, err := libxlconf.BuildDomainConfig(d, h)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range c.BInfo.VNUMANodes {
		if n.PNode != 0 {
			t.Errorf("node %d on pnode %d; a one-node host has only pnode 0", i, n.PNode)
		}
	}
}

func TestNestedHVMNeedsHost(t *testing.T) {
	d, err := domxml.Parse(hvmHead + `<cpu mode='host-passthrough'/></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		nested bool
		hw     string
		want   libxltypes.Defbool
	}{{true, "vmx", libxltypes.True}, {false, "vmx", libxltypes.False}, {true, "", libxltypes.False}, {true, "svm", libxltypes.True}} {
		h := libxlconftest.FixtureHost()
		h.NestedHVM, h.HWVirt = c.nested, c.hw
		cfg, err := libxlconf.BuildDomainConfig(d, h)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BInfo.NestedHVM != c.want {
			t.Errorf("nested_hvm=%v hw=%q: got %q, want %q", c.nested, c.hw, cfg.BInfo.NestedHVM, c.want)
		}
	}
}

func TestUnknownCPUFeatureWarns(t *testing.T) {
	d, err := domxml.Parse(hvmHead + `<cpu mode='host-passthrough'><feature policy='require' name='nosuchfeature'/>` +
		`<feature policy='require' name='tsc'/></cpu></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "nosuchfeature") {
		t.Errorf("warnings %q", c.Warnings)
	}
	if len(c.BInfo.CPUID) != 1 {
		t.Errorf("cpuid %+v: tsc should be set", c.BInfo.CPUID)
	}
}

func TestCustomCPUModeIgnored(t *testing.T) {
	d, err := domxml.Parse(hvmHead + `<cpu mode='custom' match='exact'><model>qemu64</model><feature policy='forbid' name='pni'/></cpu></domain>`)
	if err != nil {
		t.Skipf("domxml refuses it: %v", err)
	}
	c, err := libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
	if err != nil {
		t.Fatal(err)
	}
	if c.BInfo.CPUID != nil || c.BInfo.NestedHVM != "" {
		t.Errorf("custom mode applied: %+v %q", c.BInfo.CPUID, c.BInfo.NestedHVM)
	}
}

func TestStaticSecurityLabel(t *testing.T) {
	d, err := domxml.Parse(pvHead + `<seclabel type='static' model='xen' relabel='no'><label>system_u:system_r:domU_t</label></seclabel></domain>`)
	if err != nil {
		t.Skipf("domxml refuses it: %v", err)
	}
	h := libxlconftest.FixtureHost()
	h.FlaskSID = func(l string) (uint32, error) {
		if l != "system_u:system_r:domU_t" {
			t.Errorf("label %q", l)
		}
		return 42, nil
	}
	c, err := libxlconf.BuildDomainConfig(d, h)
	if err != nil {
		t.Fatal(err)
	}
	if c.CInfo.SSIDRef != 42 {
		t.Errorf("ssidref %d", c.CInfo.SSIDRef)
	}
	h.FlaskSID = nil
	if c, err = libxlconf.BuildDomainConfig(d, h); err != nil || c.CInfo.SSIDRef != 0 || len(c.Warnings) != 1 {
		t.Errorf("without a resolver: %v, %d, %q", err, c.CInfo.SSIDRef, c.Warnings)
	}
}

// TestNetworkProtocolRefused: a network disk other than RBD is
// libxlMakeNetworkDiskSrcStr's VIR_ERR_NO_SUPPORT.
func TestNetworkProtocolRefused(t *testing.T) {
	d, err := domxml.Parse(pvHead + `<devices><disk type='network'><driver name='qemu'/><source protocol='nbd' name='x'><host name='h' port='1'/></source><target dev='xvda'/></disk></devices></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
	if !virerr.Is(err, libvirt.ErrNoSupport) || err.Error() != "this function is not supported by the connection driver: Unsupported network block protocol 'nbd'" {
		t.Fatalf("%v", err)
	}
}

// TestVCPUsOnlineAboveMax: a definition with more vCPUs online than its
// maximum, which only a config file taken without its parse's checks has,
// is refused with the parse's error, not made into a list of every vCPU
// it names online.
func TestVCPUsOnlineAboveMax(t *testing.T) {
	d, err := domxml.Parse(pvHead + `</domain>`)
	if err != nil {
		t.Fatal(err)
	}
	d.VCPU.Current = 15555555
	_, err = libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
	if e := virerr.As(err); e == nil || e.Code != libvirt.ErrConfigUnsupported || e.Error() != "unsupported configuration: maximum vCPU count must not be less than current vCPU count" {
		t.Fatalf("got %v", err)
	}
}

// TestRBDAuth: an RBD disk's <auth> becomes cephx with the key of its
// secret, base64-encoded, as libxlMakeNetworkDiskSrcStr writes it; without
// a secret lookup such a disk is refused.
func TestRBDAuth(t *testing.T) {
	const disk = `<disk type='network' device='disk'><driver name='qemu' type='raw'/>
<source protocol='rbd' name='pool/image'><host name='mon1' port='6789'/></source>
<auth username='us:er'><secret type='ceph' usage='client.admin secret'/></auth>
<target dev='xvda'/></disk>`
	d, err := domxml.Parse(pvHead + `<devices>` + disk + `</devices></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost()); !virerr.Is(err, libvirt.ErrConfigUnsupported) {
		t.Fatalf("without the secret driver: %v", err)
	}
	h := libxlconftest.FixtureHost()
	var asked *libvirtxml.DomainDiskAuth
	h.SecretValue = func(a *libvirtxml.DomainDiskAuth) ([]byte, error) {
		asked = a
		return []byte("AQBkey"), nil
	}
	c, err := libxlconf.BuildDomainConfig(d, h)
	if err != nil {
		t.Fatal(err)
	}
	want := `rbd:pool/image:id=us\:er:key=QVFCa2V5:auth_supported=cephx\;none:mon_host=mon1\:6789`
	if got := c.Disks[0].PdevPath; got != want {
		t.Fatalf("pdev_path %q, want %q", got, want)
	}
	if asked == nil || asked.Secret == nil || asked.Secret.Usage != "client.admin secret" {
		t.Fatalf("asked for %+v", asked)
	}
	h.SecretValue = func(*libvirtxml.DomainDiskAuth) ([]byte, error) {
		return nil, virerr.New(30, libvirt.ErrNoSecret, "no secret with matching usage 'client.admin secret'")
	}
	if _, err := libxlconf.BuildDomainConfig(d, h); !virerr.Is(err, libvirt.ErrNoSecret) {
		t.Fatalf("the secret driver's error is not passed on: %v", err)
	}
}

// TestHotplugNIC: a NIC hot-plugged into an HVM guest without a model is
// PV only and left for libxl to number, as libxlMakeNic does with attach
// set; PV and PVH guests take only netfront.
func TestHotplugNIC(t *testing.T) {
	hvm := &libvirtxml.Domain{Type: "xen", OS: &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Type: "hvm"}}}
	pvh := &libvirtxml.Domain{Type: "xen", OS: &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Type: "xenpvh"}}}
	ifc := &libvirtxml.DomainInterface{MAC: &libvirtxml.DomainInterfaceMAC{Address: "00:16:3e:00:00:01"},
		Source: &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: "xenbr0"}}}
	n, err := libxlconf.NIC(hvm, ifc, libxlconf.Host{})
	if err != nil || n.NICType != "vif" || n.DevID != -1 || n.Bridge != "xenbr0" || n.MAC != "00:16:3e:00:00:01" {
		t.Fatalf("HVM NIC %+v, %v", n, err)
	}
	ifc.Model = &libvirtxml.DomainInterfaceModel{Type: "e1000"}
	if n, err := libxlconf.NIC(hvm, ifc, libxlconf.Host{}); err != nil || n.NICType != "vif_ioemu" || n.Model != "e1000" {
		t.Fatalf("HVM e1000 NIC %+v, %v", n, err)
	}
	if _, err := libxlconf.NIC(pvh, ifc, libxlconf.Host{}); err == nil || err.Error() != "unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains" {
		t.Fatalf("PVH e1000 NIC: %v", err)
	}
}
