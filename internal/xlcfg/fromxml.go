package xlcfg

import (
	"fmt"
	"strconv"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// ToNative converts domain XML to a native cfg in format f, as libvirt's
// xenFormatXL / xenFormatXM and virConfWriteMem do. The XML is parsed
// first (an invalid definition gives domxml's error), then the format is
// checked, in libvirt's order.
func ToNative(xml string, f Format) ([]byte, error) {
	d, err := domxml.Parse(xml)
	if err != nil {
		return nil, err
	}
	if f != XL && f != XM {
		return nil, &Error{Code: codeInvalidArg, Msg: fmt.Sprintf("unsupported config type %s", f)}
	}
	return FromDomain(d, f)
}

// FromDomain formats a parsed definition as a native cfg.
func FromDomain(d *libvirtxml.Domain, f Format) ([]byte, error) {
	if d.Devices == nil {
		d.Devices = &libvirtxml.DomainDeviceList{}
	}
	if d.OS == nil || d.OS.Type == nil {
		return nil, internalf("domain has no OS type")
	}
	o := newOut()
	if err := formatCommon(o, d, f); err != nil {
		return nil, err
	}
	if f == XM {
		formatXMOS(o, d)
		if err := formatDisks(o, d, formatXMDisk); err != nil {
			return nil, err
		}
		formatXMInputs(o, d)
		return o.bytes(), nil
	}
	formatXLOS(o, d)
	formatCPUID(o, d)
	if err := formatVnuma(o, d); err != nil {
		return nil, err
	}
	formatXenbus(o, d)
	if err := formatDisks(o, d, formatXLDisk); err != nil {
		return nil, err
	}
	formatSpice(o, d)
	formatXLInputs(o, d)
	formatUSBDevs(o, d)
	if err := formatUSBCtrls(o, d); err != nil {
		return nil, err
	}
	if err := formatChannels(o, d); err != nil {
		return nil, err
	}
	formatDMArgs(o, d)
	return o.bytes(), nil
}

func vifTypename(f Format) string {
	if f == XM {
		return "netfront"
	}
	return "vif"
}

// formatCommon is xenFormatConfigCommon.
func formatCommon(o *out, d *libvirtxml.Domain, f Format) error {
	o.setStr("name", d.Name)
	o.setStr("uuid", d.UUID)
	o.setInt("maxmem", int64(divUp(totalMemKiB(d), 1024)))
	o.setInt("memory", int64(divUp(domxml.CurrentMemoryKiB(d), 1024)))
	if err := formatCPUAlloc(o, d); err != nil {
		return err
	}
	if err := formatFeatures(o, d); err != nil {
		return err
	}
	if err := formatTimeOffset(o, d); err != nil {
		return err
	}
	o.setStr("on_poweroff", orDefault(d.OnPoweroff, "destroy"))
	o.setStr("on_reboot", orDefault(d.OnReboot, "restart"))
	o.setStr("on_crash", orDefault(d.OnCrash, "destroy"))
	if d.Devices.Emulator != "" {
		o.setStr("device_model_override", d.Devices.Emulator)
	}
	formatVfb(o, d)
	if err := formatVifs(o, d, vifTypename(f)); err != nil {
		return err
	}
	formatPCIs(o, d)
	if err := formatCharDevs(o, d, f); err != nil {
		return err
	}
	formatSound(o, d)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func divUp(a, b uint64) uint64 { return (a + b - 1) / b }

// totalMemKiB is virDomainDefGetMemoryTotal.
func totalMemKiB(d *libvirtxml.Domain) uint64 { return domxml.MemoryKiB(d) }

func formatCPUAlloc(o *out, d *libvirtxml.Domain) error {
	maxv, cur := domxml.MaxVCPUs(d), domxml.CurrentVCPUs(d)
	if cur < maxv {
		o.setInt("maxvcpus", int64(maxv))
	}
	o.setInt("vcpus", int64(cur))
	if d.VCPU != nil && d.VCPU.CPUSet != "" {
		set, err := domxml.ParseCPUSet(d.VCPU.CPUSet, domxml.CPUMaskLen)
		if err != nil {
			return internalf("invalid cpuset '%s'", d.VCPU.CPUSet)
		}
		o.setStr("cpus", domxml.FormatCPUSet(set))
	}
	return nil
}

func formatTimeOffset(o *out, d *libvirtxml.Domain) error {
	cl := d.Clock
	if cl == nil {
		cl = &libvirtxml.DomainClock{Offset: "utc"}
	}
	local := 0
	if isHVM(d) {
		rtc := 0
		switch cl.Offset {
		case "variable":
			if cl.Basis == "localtime" {
				local = 1
			}
			rtc, _ = strconv.Atoi(cl.Adjustment)
		case "utc", "localtime":
			if cl.Adjustment == "reset" {
				return unsupportedf("unsupported clock adjustment='reset'")
			}
			if cl.Offset == "localtime" {
				local = 1
			}
		default:
			return unsupportedf("unsupported clock offset='%s'", cl.Offset)
		}
		o.setInt("rtc_timeoffset", int64(rtc))
	} else {
		switch cl.Offset {
		case "utc":
		case "localtime":
			local = 1
		default:
			return unsupportedf("unsupported clock offset='%s'", cl.Offset)
		}
	}
	o.setInt("localtime", int64(local))
	return nil
}
