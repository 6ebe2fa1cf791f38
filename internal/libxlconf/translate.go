package libxlconf

import (
	"fmt"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// Host is what the translation needs to know of the host and of the
// driver's configuration, the answers libvirt gets from libxl and
// libxl.conf.
type Host struct {
	// NUMANodes is the host's NUMA node count (libxl_physinfo nr_nodes);
	// 0 means 1.
	NUMANodes int
	// NestedHVM is libxl.conf's nested_hvm.
	NestedHVM bool
	// HWVirt is the host CPU's hardware virtualisation feature, "vmx" or
	// "svm", or "" when it has neither.
	HWVirt string
	// ShadowMemKiB is libxl_get_required_shadow_memory; nil uses libxl's
	// formula.
	ShadowMemKiB func(maxMemKiB uint64, vcpus int) uint64
	// GraphicsPort reserves a port for a graphics device with autoport;
	// nil hands out 5900, 5901, ... within one translation.
	GraphicsPort func() (int, error)
	// CheckEmulator checks an HVM guest's <emulator>; nil checks that the
	// file exists and is executable, as libvirt does.
	CheckEmulator func(path string) error
	// NetworkBridge resolves <interface type='network'> to the network's
	// bridge; nil refuses such interfaces.
	NetworkBridge func(network string) (string, error)
	// SecretValue is the value of the secret an RBD disk's <auth> names,
	// looked up as libvirt's virSecretGetSecretString does with usage type
	// ceph; nil refuses such disks.
	SecretValue func(auth *libvirtxml.DomainDiskAuth) ([]byte, error)
	// FlaskSID resolves a static security label to a FLASK sid
	// (libxl_flask_context_to_sid); nil leaves labels unresolved.
	FlaskSID func(label string) (uint32, error)
	// FindUSB finds a USB host device by vendor and product; nil looks in
	// the host's sysfs (FindUSBDevice).
	FindUSB func(vendor, product uint) (bus, dev uint, err error)
	// MaxCPUs is libxl_get_max_cpus: a vCPU left unpinned beside pinned
	// ones may run on any of them. 0 takes the highest pinned CPU instead.
	MaxCPUs int
	// ChannelDir holds the sockets of Xen channels that name no path;
	// "" is libvirt's /var/lib/libvirt/libxl/channel/target.
	ChannelDir string
}

// DefaultChannelDir is libvirt's LIBXL_CHANNEL_DIR.
const DefaultChannelDir = "/var/lib/libvirt/libxl/channel/target"

// RequiredShadowMemKiB is libxl_get_required_shadow_memory: 256 pages
// (1 MiB) per vCPU plus 1 page per MiB of RAM for the P2M map, plus 1
// page per MiB for the shadow pagetables, in KiB.
func RequiredShadowMemKiB(maxMemKiB uint64, vcpus int) uint64 {
	return 4 * (256*uint64(vcpus) + 2*(maxMemKiB/1024))
}

func (h *Host) shadow(maxMemKiB uint64, vcpus int) uint64 {
	if h.ShadowMemKiB != nil {
		return h.ShadowMemKiB(maxMemKiB, vcpus)
	}
	return RequiredShadowMemKiB(maxMemKiB, vcpus)
}

func (h *Host) numaNodes() int {
	if h.NUMANodes < 1 {
		return 1
	}
	return h.NUMANodes
}

func (h *Host) checkEmulator(path string) error {
	if h.CheckEmulator != nil {
		return h.CheckEmulator(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return unsupported("emulator '%s' not found", path)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return unsupported("emulator '%s' is not executable", path)
	}
	return nil
}

// unsupported is libvirt's VIR_ERR_CONFIG_UNSUPPORTED from the libxl driver.
func unsupported(format string, args ...any) error {
	return virerr.New(virerr.FromLibxl, libvirt.ErrConfigUnsupported, format, args...)
}

// translation carries one BuildDomainConfig call's state.
type translation struct {
	d        *libvirtxml.Domain
	host     *Host
	kind     domxml.OSKind
	nextPort int
	warnings []string
}

// warn records what libvirt would only log: the guest starts regardless.
func (t *translation) warn(format string, args ...any) {
	t.warnings = append(t.warnings, fmt.Sprintf(format, args...))
}

func (t *translation) hvm() bool { return t.kind == domxml.HVM }

func (t *translation) port() (int, error) {
	if t.host.GraphicsPort != nil {
		return t.host.GraphicsPort()
	}
	p := 5900 + t.nextPort
	t.nextPort++
	return p, nil
}

// BuildDomainConfig translates a parsed definition (domxml.Parse, with its
// defaults) into libxl_domain_config, as libvirt's libxlBuildDomainConfig
// does. Errors are libvirt's.
func BuildDomainConfig(d *libvirtxml.Domain, h Host) (*libxltypes.DomainConfig, error) {
	if d == nil {
		return nil, unsupported("no domain definition")
	}
	t := &translation{d: d, host: &h, kind: domxml.KindOf(d)}
	if t.kind == domxml.UnknownKind {
		return nil, unsupported("unsupported guest type for libxl")
	}
	c := &libxltypes.DomainConfig{}
	steps := []func(*libxltypes.DomainConfig) error{
		t.createInfo,
		t.buildInfo,
		t.vnuma,
		t.disks,
		t.nics,
		t.pcidevs,
		t.graphics,
		t.usb,
		t.channels,
		t.video,
		t.lifecycle,
	}
	for _, step := range steps {
		if err := step(c); err != nil {
			return nil, err
		}
	}
	c.Warnings = t.warnings
	return c, nil
}

func (t *translation) createInfo(c *libxltypes.DomainConfig) error {
	switch t.kind {
	case domxml.HVM:
		c.CInfo.Type = "hvm"
		if f := t.d.Features; f != nil && f.HAP != nil {
			c.CInfo.HAP = libxltypes.DefboolOf(f.HAP.State != "off")
		}
	case domxml.PVH:
		c.CInfo.Type = "pvh"
	default:
		c.CInfo.Type = "pv"
	}
	c.CInfo.Name = t.d.Name
	c.CInfo.UUID = t.d.UUID
	if sl := t.d.SecLabel; len(sl) > 0 && sl[0].Type == "static" {
		t.securityLabel(c, sl[0].Label)
	}
	if f := t.d.Features; f != nil && f.Xen != nil && f.Xen.Passthrough != nil {
		switch pt := f.Xen.Passthrough; {
		case pt.State == "off":
			c.CInfo.Passthrough = "disabled"
		case pt.Mode == "sync_pt" || pt.Mode == "share_pt":
			c.CInfo.Passthrough = pt.Mode
		default:
			c.CInfo.Passthrough = "enabled"
		}
	}
	return nil
}

// lifecycleActions maps libvirt's on_* values to libxl_action_on_shutdown.
var lifecycleActions = map[string]string{
	"destroy":          "destroy",
	"restart":          "restart",
	"rename-restart":   "restart_rename",
	"preserve":         "preserve",
	"coredump-destroy": "coredump_destroy",
	"coredump-restart": "coredump_restart",
}

func (t *translation) lifecycle(c *libxltypes.DomainConfig) error {
	for _, a := range []struct {
		xml string
		out *string
		def string
	}{
		{t.d.OnPoweroff, &c.OnPower, "destroy"},
		{t.d.OnReboot, &c.OnReboot, "restart"},
		{t.d.OnCrash, &c.OnCrash, "destroy"},
	} {
		v := a.xml
		if v == "" {
			v = a.def
		}
		act, ok := lifecycleActions[v]
		if !ok {
			return unsupported("unsupported lifecycle action '%s'", v)
		}
		*a.out = act
	}
	return nil
}

// securityLabel sets the FLASK sid of a static label. Like libvirt, a
// label that does not resolve is reported and the guest starts without.
func (t *translation) securityLabel(c *libxltypes.DomainConfig, label string) {
	if t.host.FlaskSID == nil {
		t.warn("security label '%s' not applied: no FLASK resolver", label)
		return
	}
	sid, err := t.host.FlaskSID(label)
	if err != nil {
		t.warn("libxenlight failed to resolve security label '%s': %v", label, err)
		return
	}
	c.CInfo.SSIDRef = sid
}
