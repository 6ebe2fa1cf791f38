package caps

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// The vCPU limits libxl assumes (Xen has no interface to report them).
const (
	hvmMaxVCPUs = 128
	pvMaxVCPUs  = 512
)

// DefaultDomainCapsEmulator is what libxl reports when the caller names
// no emulator.
const DefaultDomainCapsEmulator = "/usr/bin/qemu-system-x86_64"

// virtTypes are libvirt's virDomainVirtType names.
var virtTypes = map[string]bool{
	"none": true, "qemu": true, "kqemu": true, "kvm": true, "xen": true, "lxc": true,
	"uml": true, "openvz": true, "test": true, "vmware": true, "hyperv": true,
	"vbox": true, "phyp": true, "parallels": true, "bhyve": true, "vz": true, "hvf": true,
}

func invalidArg(format string, args ...any) error {
	return virerr.New(virerr.FromLibxl, libvirt.ErrInvalidArg, format, args...)
}

// CheckDomainCapsFlags is libxlConnectGetDomainCapabilities's
// virCheckFlags(0): no flag is accepted.
func CheckDomainCapsFlags(flags uint32) error {
	if flags != 0 {
		return virerr.UnsupportedFlags(virerr.FromLibxl, flags, "libxlConnectGetDomainCapabilities")
	}
	return nil
}

// DomainCapsFor is libxlConnectGetDomainCapabilities up to formatting:
// empty arguments take libxl's defaults (host arch, xenpv, xen, qemu-x86_64
// path) and bad ones get its errors.
func DomainCapsFor(h Host, emulator, arch, machine, virttype string) (*libvirtxml.DomainCaps, error) {
	if virttype != "" && (!virtTypes[virttype] || virttype != "xen") {
		return nil, invalidArg("unknown virttype: %s", virttype)
	}
	if arch == "" {
		arch = h.arch()
	} else if !domxml.KnownArch(arch) {
		return nil, invalidArg("unknown architecture: %s", arch)
	}
	if emulator == "" {
		emulator = DefaultDomainCapsEmulator
	}
	switch machine {
	case "":
		machine = "xenpv"
	case "xenpv", "xenpvh", "xenfv":
	default:
		return nil, invalidArg("%s", "Xen only supports 'xenpv', 'xenpvh' and 'xenfv' machines")
	}
	max := uint(pvMaxVCPUs)
	if machine == "xenfv" {
		max = hvmMaxVCPUs
	}
	no := "no"
	dc := &libvirtxml.DomainCaps{
		Path: emulator, Domain: "xen", Machine: machine, Arch: arch,
		VCPU:      &libvirtxml.DomainCapsVCPU{Max: max},
		IOThreads: &libvirtxml.DomainCapsIOThreads{Supported: no},
		OS:        osCaps(h, machine),
		CPU: &libvirtxml.DomainCapsCPU{Modes: []libvirtxml.DomainCapsCPUMode{
			{Name: "host-passthrough", Supported: no}, {Name: "maximum", Supported: no},
			{Name: "host-model", Supported: no}, {Name: "custom", Supported: no},
		}},
		Devices: deviceCaps(machine),
		Features: &libvirtxml.DomainCapsFeatures{
			GIC:        &libvirtxml.DomainCapsFeatureGIC{Supported: no},
			VMCoreInfo: &libvirtxml.DomainCapsFeatureVMCoreInfo{Supported: no},
			GenID:      &libvirtxml.DomainCapsFeatureGenID{Supported: no},
			SEV:        &libvirtxml.DomainCapsFeatureSEV{Supported: no},
			SGX:        &libvirtxml.DomainCapsFeatureSGX{Supported: no},
		},
	}
	return dc, nil
}

// DomainCapabilities is DomainCapsFor formatted by virDomainCapsFormat.
func DomainCapabilities(h Host, emulator, arch, machine, virttype string) (string, error) {
	dc, err := DomainCapsFor(h, emulator, arch, machine, virttype)
	if err != nil {
		return "", err
	}
	return libvirtDoc(dc)
}

// osCaps is libxlMakeDomainOSCaps: firmware choice only for HVM.
func osCaps(h Host, machine string) *libvirtxml.DomainCapsOS {
	os := &libvirtxml.DomainCapsOS{Supported: "yes"}
	if machine == "xenpv" || machine == "xenpvh" {
		os.Loader = &libvirtxml.DomainCapsOSLoader{Supported: "no"}
		return os
	}
	fw := h.Firmwares
	if fw == nil {
		fw = DefaultFirmwares()
	}
	os.Loader = &libvirtxml.DomainCapsOSLoader{
		Supported: "yes",
		Values:    append([]string(nil), fw...),
		Enums: []libvirtxml.DomainCapsEnum{
			{Name: "type", Values: []string{"rom", "pflash"}},
			{Name: "readonly", Values: []string{"yes"}},
		},
	}
	return os
}

func enum(name string, values ...string) libvirtxml.DomainCapsEnum {
	return libvirtxml.DomainCapsEnum{Name: name, Values: values}
}

// deviceCaps: disks, graphics, video, and (not for PVH) host devices.
func deviceCaps(machine string) *libvirtxml.DomainCapsDevices {
	d := &libvirtxml.DomainCapsDevices{
		Disk: &libvirtxml.DomainCapsDevice{Supported: "yes", Enums: []libvirtxml.DomainCapsEnum{
			enum("diskDevice", "disk", "cdrom"),
			enum("bus", "ide", "scsi", "xen"),
			enum("model"),
		}},
		Graphics: &libvirtxml.DomainCapsDevice{Supported: "yes", Enums: []libvirtxml.DomainCapsEnum{
			enum("type", "sdl", "vnc", "spice"),
		}},
		Video: &libvirtxml.DomainCapsDevice{Supported: "yes", Enums: []libvirtxml.DomainCapsEnum{
			enum("modelType", "vga", "cirrus", "xen"),
		}},
	}
	if machine != "xenpvh" {
		d.HostDev = &libvirtxml.DomainCapsDevice{Supported: "yes", Enums: []libvirtxml.DomainCapsEnum{
			enum("mode", "subsystem"),
			enum("startupPolicy", "default", "mandatory", "requisite", "optional"),
			enum("subsysType", "usb", "pci"),
			enum("capsType"),
			enum("pciBackend", "xen"),
		}}
	}
	return d
}
