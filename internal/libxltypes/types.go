// Package libxltypes is libxl's libxl_domain_config and device structs
// (tools/libs/light/libxl_types.idl, Xen 4.17) as Go types whose JSON is
// the form libxl_domain_config_from_json reads. It is the hypervisor's
// config model that crosses the backend seam: the driver translates a
// domain definition into it once (internal/libxlconf), and every backend
// receives it, the simulated host as real Xen.
//
// Only the fields libvirt's libxl driver sets are modelled. A zero value
// is left out of the JSON, so libxl applies its own default for it. The
// package knows nothing of libvirt's XML or errors.
package libxltypes

import "encoding/json"

// Defbool is libxl's three-state boolean: "" (default), "True" or "False".
type Defbool string

// The two set values of a Defbool.
const (
	True  Defbool = "True"
	False Defbool = "False"
)

// DefboolOf is True or False.
func DefboolOf(b bool) Defbool {
	if b {
		return True
	}
	return False
}

// DomainConfig is libxl_domain_config.
type DomainConfig struct {
	CInfo    CreateInfo `json:"c_info"`
	BInfo    BuildInfo  `json:"b_info"`
	Disks    []Disk     `json:"disks,omitempty"`
	NICs     []NIC      `json:"nics,omitempty"`
	PCIDevs  []PCIDev   `json:"pcidevs,omitempty"`
	VFBs     []VFB      `json:"vfbs,omitempty"`
	VKBs     []VKB      `json:"vkbs,omitempty"`
	Channels []Channel  `json:"channels,omitempty"`
	USBCtrls []USBCtrl  `json:"usbctrls,omitempty"`
	USBDevs  []USBDev   `json:"usbdevs,omitempty"`
	OnPower  string     `json:"on_poweroff,omitempty"`
	OnReboot string     `json:"on_reboot,omitempty"`
	OnCrash  string     `json:"on_crash,omitempty"`

	// Warnings are what the translation skipped, for the log.
	Warnings []string `json:"-"`
	// GraphicsPorts are the ports given to <graphics> with autoport, by
	// index in the definition's graphics list: libvirt shows them in the
	// live XML.
	GraphicsPorts map[int]int `json:"-"`
}

// JSON is the configuration as libxl_domain_config_from_json reads it.
func (c *DomainConfig) JSON() ([]byte, error) {
	return json.MarshalIndent(c, "", "    ")
}

// CreateInfo is libxl_domain_create_info.
type CreateInfo struct {
	Type    string  `json:"type"` // "pv", "hvm" or "pvh"
	HAP     Defbool `json:"hap,omitempty"`
	Name    string  `json:"name"`
	UUID    string  `json:"uuid,omitempty"`
	SSIDRef uint32  `json:"ssidref,omitempty"`
	// Passthrough is libxl_passthrough: "disabled", "enabled", "sync_pt"
	// or "share_pt".
	Passthrough string `json:"passthrough,omitempty"`
}

// BuildInfo is libxl_domain_build_info.
type BuildInfo struct {
	MaxVCPUs   int    `json:"max_vcpus"`
	AvailVCPUs []int  `json:"avail_vcpus"`
	TSCMode    string `json:"tsc_mode,omitempty"`
	// VCPUHardAffinity is one CPU list per vCPU up to the highest pinned
	// one (a libxl_bitmap's JSON is its set bits, in order).
	VCPUHardAffinity [][]int      `json:"vcpu_hard_affinity,omitempty"`
	NUMAPlacement    Defbool      `json:"numa_placement,omitempty"`
	SchedParams      *SchedParams `json:"sched_params,omitempty"`
	MaxMemKiB        uint64       `json:"max_memkb"`
	TargetMemKiB     uint64       `json:"target_memkb"`
	VideoMemKiB      uint64       `json:"video_memkb,omitempty"`
	ShadowMemKiB     uint64       `json:"shadow_memkb,omitempty"`
	// RTCTimeOffset is a uint32 in libxl that Xen reads as int32: an
	// offset before UTC wraps.
	RTCTimeOffset      uint32      `json:"rtc_timeoffset,omitempty"`
	Localtime          Defbool     `json:"localtime,omitempty"`
	MaxGrantFrames     uint        `json:"max_grant_frames,omitempty"`
	EventChannels      uint        `json:"event_channels,omitempty"`
	DeviceModelVersion string      `json:"device_model_version,omitempty"`
	DeviceModel        string      `json:"device_model,omitempty"`
	VNUMANodes         []VNUMANode `json:"vnuma_nodes,omitempty"`
	CPUID              []CPUIDLeaf `json:"cpuid,omitempty"`
	Kernel             string      `json:"kernel,omitempty"`
	Cmdline            string      `json:"cmdline,omitempty"`
	Ramdisk            string      `json:"ramdisk,omitempty"`
	NestedHVM          Defbool     `json:"nested_hvm,omitempty"`
	APIC               Defbool     `json:"apic,omitempty"`
	ACPI               Defbool     `json:"acpi,omitempty"`
	HVM                *HVMInfo    `json:"type.hvm,omitempty"`
	PV                 *PVInfo     `json:"type.pv,omitempty"`
	PVH                *PVHInfo    `json:"type.pvh,omitempty"`
	ArchX86            *ArchX86    `json:"arch_x86,omitempty"`
}

// SchedParams is libxl_domain_sched_params; libxl keeps its defaults for
// the fields left out.
type SchedParams struct {
	Weight uint `json:"weight"`
}

// ArchX86 is libxl_domain_build_info's x86 part.
type ArchX86 struct {
	MSRRelaxed Defbool `json:"msr_relaxed,omitempty"`
}

// VNUMANode is libxl_vnode_info.
type VNUMANode struct {
	MemKiB    uint64 `json:"memkb"`
	Distances []uint `json:"distances"`
	PNode     uint   `json:"pnode,omitempty"`
	VCPUs     []int  `json:"vcpus"`
}

// CPUIDLeaf is one entry of libxl_cpuid_policy_list: each register is 32
// characters, bit 31 first, of '0', '1' or 'x' (keep the default).
type CPUIDLeaf struct {
	Leaf    uint32  `json:"leaf"`
	Subleaf *uint32 `json:"subleaf,omitempty"`
	EAX     string  `json:"eax,omitempty"`
	EBX     string  `json:"ebx,omitempty"`
	ECX     string  `json:"ecx,omitempty"`
	EDX     string  `json:"edx,omitempty"`
}

// HVMInfo is the hvm member of libxl_domain_build_info's type union.
type HVMInfo struct {
	BIOS           string   `json:"bios,omitempty"`
	PAE            Defbool  `json:"pae,omitempty"`
	HPET           Defbool  `json:"hpet,omitempty"`
	Viridian       Defbool  `json:"viridian,omitempty"`
	ViridianEnable []int    `json:"viridian_enable,omitempty"`
	SystemFirmware string   `json:"system_firmware,omitempty"`
	ACPIFirmware   string   `json:"acpi_firmware,omitempty"`
	HDType         string   `json:"hdtype,omitempty"` // "ide" or "ahci"
	Nographic      Defbool  `json:"nographic,omitempty"`
	VGA            VGA      `json:"vga"`
	VNC            VNC      `json:"vnc"`
	Keymap         string   `json:"keymap,omitempty"`
	SDL            SDL      `json:"sdl"`
	Spice          Spice    `json:"spice"`
	Serial         string   `json:"serial,omitempty"`
	Boot           string   `json:"boot,omitempty"`
	USB            Defbool  `json:"usb,omitempty"`
	USBDeviceList  []string `json:"usbdevice_list,omitempty"`
	SoundHW        string   `json:"soundhw,omitempty"`
	SerialList     []string `json:"serial_list,omitempty"`
}

// VGA is libxl_vga_interface_info.
type VGA struct {
	Kind string `json:"kind,omitempty"` // "none", "cirrus", "std", "qxl"
}

// VNC is libxl_vnc_info.
type VNC struct {
	Enable     Defbool `json:"enable,omitempty"`
	Listen     string  `json:"listen,omitempty"`
	Passwd     string  `json:"passwd,omitempty"`
	Display    int     `json:"display,omitempty"`
	FindUnused Defbool `json:"findunused,omitempty"`
}

// SDL is libxl_sdl_info.
type SDL struct {
	Enable     Defbool `json:"enable,omitempty"`
	OpenGL     Defbool `json:"opengl,omitempty"`
	Display    string  `json:"display,omitempty"`
	XAuthority string  `json:"xauthority,omitempty"`
}

// Spice is libxl_spice_info.
type Spice struct {
	Enable           Defbool `json:"enable,omitempty"`
	Port             int     `json:"port,omitempty"`
	TLSPort          int     `json:"tls_port,omitempty"`
	Host             string  `json:"host,omitempty"`
	DisableTicketing Defbool `json:"disable_ticketing,omitempty"`
	Passwd           string  `json:"passwd,omitempty"`
	AgentMouse       Defbool `json:"agent_mouse,omitempty"`
	VDAgent          Defbool `json:"vdagent,omitempty"`
	ClipboardSharing Defbool `json:"clipboard_sharing,omitempty"`
	ImageCompression string  `json:"image_compression,omitempty"`
	StreamingVideo   string  `json:"streaming_video,omitempty"`
}

// PVInfo is the pv member of libxl_domain_build_info's type union.
type PVInfo struct {
	Bootloader     string   `json:"bootloader,omitempty"`
	BootloaderArgs []string `json:"bootloader_args,omitempty"`
	E820Host       Defbool  `json:"e820_host,omitempty"`
}

// PVHInfo is the pvh member of libxl_domain_build_info's type union.
type PVHInfo struct{}

// Disk is libxl_device_disk.
type Disk struct {
	BackendDomname string  `json:"backend_domname,omitempty"`
	PdevPath       string  `json:"pdev_path,omitempty"`
	Vdev           string  `json:"vdev"`
	Backend        string  `json:"backend,omitempty"`
	Format         string  `json:"format,omitempty"`
	Script         string  `json:"script,omitempty"`
	Removable      int     `json:"removable,omitempty"`
	Readwrite      int     `json:"readwrite,omitempty"`
	IsCDROM        int     `json:"is_cdrom,omitempty"`
	DirectIOSafe   bool    `json:"direct_io_safe,omitempty"`
	DiscardEnable  Defbool `json:"discard_enable,omitempty"`
}

// NIC is libxl_device_nic.
type NIC struct {
	BackendDomname string `json:"backend_domname,omitempty"`
	DevID          int    `json:"devid"`
	MTU            uint   `json:"mtu,omitempty"`
	Model          string `json:"model,omitempty"`
	MAC            string `json:"mac,omitempty"`
	IP             string `json:"ip,omitempty"`
	Bridge         string `json:"bridge,omitempty"`
	Ifname         string `json:"ifname,omitempty"`
	Script         string `json:"script,omitempty"`
	NICType        string `json:"nictype,omitempty"` // "vif" or "vif_ioemu"
	RateBytes      uint64 `json:"rate_bytes_per_interval,omitempty"`
	RateInterval   uint32 `json:"rate_interval_usecs,omitempty"`
}

// PCIDev is libxl_device_pci.
type PCIDev struct {
	Func       uint   `json:"func,omitempty"`
	Dev        uint   `json:"dev,omitempty"`
	Bus        uint   `json:"bus,omitempty"`
	Domain     uint   `json:"domain,omitempty"`
	Permissive bool   `json:"permissive,omitempty"`
	Seize      bool   `json:"seize,omitempty"`
	RDMPolicy  string `json:"rdm_policy,omitempty"`
}

// VFB is libxl_device_vfb.
type VFB struct {
	DevID  int    `json:"devid"`
	VNC    VNC    `json:"vnc"`
	SDL    SDL    `json:"sdl"`
	Keymap string `json:"keymap,omitempty"`
}

// VKB is libxl_device_vkb.
type VKB struct {
	DevID int `json:"devid"`
}

// Channel is libxl_device_channel. Its connection is a keyed union, which
// libxl's JSON names by the member key alone: exactly one of PTY and
// Socket is set.
type Channel struct {
	DevID  int            `json:"devid"` // -1: libxl chooses
	Name   string         `json:"name,omitempty"`
	PTY    *struct{}      `json:"connection.pty,omitempty"`
	Socket *ChannelSocket `json:"connection.socket,omitempty"`
}

// ChannelSocket is the socket member of a channel's connection union.
type ChannelSocket struct {
	Path string `json:"path"`
}

// USBCtrl is libxl_device_usbctrl.
type USBCtrl struct {
	Type    string `json:"type,omitempty"` // "qusb"
	DevID   int    `json:"devid"`
	Version int    `json:"version,omitempty"`
	Ports   int    `json:"ports,omitempty"`
}

// USBDev is libxl_device_usbdev of type hostdev. Ctrl -1 leaves the
// controller and port to libxl, which says which it chose.
type USBDev struct {
	Ctrl    int       `json:"ctrl"`
	Port    int       `json:"port,omitempty"`
	HostDev USBHostID `json:"type.hostdev"`
}

// USBHostID is the hostdev member of a usbdev's type union.
type USBHostID struct {
	HostBus  uint `json:"hostbus"`
	HostAddr uint `json:"hostaddr"`
}
