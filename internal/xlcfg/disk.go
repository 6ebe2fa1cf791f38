package xlcfg

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

func diskBus(dst string, hvm bool) string {
	switch {
	case strings.HasPrefix(dst, "xvd") || !hvm:
		return "xen"
	case strings.HasPrefix(dst, "sd"):
		return "scsi"
	}
	return "ide"
}

// parseXLDisks is xenParseXLDisk.
func (c *conf) parseXLDisks(d *libvirtxml.Domain) error {
	for _, spec := range c.listStrings("disk") {
		x, err := parseXLDiskSpec(spec)
		if err != nil {
			return c.errorf("disk", "invalid disk spec '%s': %v", spec, err)
		}
		disk, err := x.domainDisk(isHVM(d))
		if err != nil {
			return c.errorCode(codeUnsupported, "disk", "%v", err)
		}
		d.Devices.Disks = append(d.Devices.Disks, *disk)
	}
	return nil
}

func (x *xlDisk) domainDisk(hvm bool) (*libvirtxml.DomainDisk, error) {
	disk := &libvirtxml.DomainDisk{Device: "disk", Driver: &libvirtxml.DomainDiskDriver{},
		Target: &libvirtxml.DomainDiskTarget{Dev: x.vdev, Bus: diskBus(x.vdev, hvm)}}
	network := false
	if x.target != "" {
		if strings.HasPrefix(x.target, "rbd:") {
			src, err := parseRBD(strings.ReplaceAll(x.target, `\\`, `\`))
			if err != nil {
				return nil, err
			}
			disk.Source = src
			network = true
		}
	}
	if x.readonly {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	}
	if x.cdrom {
		disk.Device = "cdrom"
		disk.Driver.Name = "qemu"
		if x.target != "" {
			disk.Driver.Type = "raw"
		}
		setFileSource(disk, x.target, "file")
		return disk, nil
	}
	if x.format != "empty" {
		disk.Driver.Type = x.format
		if x.format == "" {
			disk.Driver.Type = "raw"
		}
	}
	typ := "file"
	switch x.backend {
	case "qdisk", "":
		disk.Driver.Name = "qemu"
	case "tap":
		disk.Driver.Name = "tap"
	case "phy":
		disk.Driver.Name, typ = "phy", "block"
	default:
		return nil, unsupportedf("disk backend not supported: %s", x.backend)
	}
	if !network {
		setFileSource(disk, x.target, typ)
	}
	return disk, nil
}

func setFileSource(disk *libvirtxml.DomainDisk, path, typ string) {
	if typ == "block" {
		disk.Source = &libvirtxml.DomainDiskSource{Block: &libvirtxml.DomainDiskSourceBlock{Dev: path}}
		return
	}
	disk.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}}
}

// parseRBD reads "rbd:pool/image[@snap][:opt=val...]" as
// virStorageSourceParseRBDColonString does (mon_host, id, auth_supported).
func parseRBD(s string) (*libvirtxml.DomainDiskSource, error) {
	fields := splitEscaped(strings.TrimPrefix(s, "rbd:"), ':')
	name := fields[0]
	net := &libvirtxml.DomainDiskSourceNetwork{Protocol: "rbd", Name: unescape(name)}
	if img, snap, ok := strings.Cut(net.Name, "@"); ok {
		net.Name = img
		net.Snapshot = &libvirtxml.DomainDiskSourceNetworkSnapshot{Name: snap}
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "mon_host":
			for _, h := range strings.Split(strings.ReplaceAll(v, `\;`, ";"), ";") {
				net.Hosts = append(net.Hosts, rbdHost(h))
			}
		case "conf":
			net.Config = &libvirtxml.DomainDiskSourceNetworkConfig{File: unescape(v)}
		}
	}
	return &libvirtxml.DomainDiskSource{Network: net}, nil
}

// rbdHost reads "name[\\:port]", the name maybe "[ipv6]".
func rbdHost(h string) libvirtxml.DomainDiskSourceHost {
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		if end := strings.Index(h, "]"); end > 0 {
			name, port = h[1:end], strings.TrimLeft(h[end+1:], `\:`)
		}
	} else if i := strings.LastIndex(h, ":"); i >= 0 {
		name, port = strings.TrimSuffix(h[:i], `\`), h[i+1:]
	}
	return libvirtxml.DomainDiskSourceHost{Name: unescape(name), Port: port}
}

// splitEscaped splits at sep where it is not escaped by a backslash; the
// escapes stay in the pieces.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// formatDisks is xenFormatXLDomainDisks and xenFormatXMDisks: the disk
// list but floppies, each written by the format's own formatter.
func formatDisks(o *out, d *libvirtxml.Domain, format func(libvirtxml.DomainDisk) (string, error)) error {
	var l []value
	for _, disk := range d.Devices.Disks {
		if disk.Device == "floppy" {
			continue
		}
		s, err := format(disk)
		if err != nil {
			return err
		}
		l = append(l, strVal(s))
	}
	if len(l) > 0 {
		o.set("disk", listVal(l...))
	}
	return nil
}

var xlFormatNames = map[string]string{"raw": "raw", "vhd": "xvhd", "qcow": "qcow", "qcow2": "qcow2", "qed": "qed"}

func formatXLDisk(disk libvirtxml.DomainDisk) (string, error) {
	var b strings.Builder
	drvName, drvType := "", ""
	if disk.Driver != nil {
		drvName, drvType = disk.Driver.Name, disk.Driver.Type
	}
	f := xlFormatNames[drvType]
	if f == "" {
		f = "raw"
	}
	b.WriteString("format=" + f)
	dst := ""
	if disk.Target != nil {
		dst = disk.Target.Dev
	}
	b.WriteString(",vdev=" + dst + ",access=")
	switch {
	case disk.ReadOnly != nil:
		b.WriteString("ro")
	case disk.Shareable != nil:
		b.WriteString("!")
	default:
		b.WriteString("rw")
	}
	if disk.Transient != nil {
		return "", unsupportedf("transient disks not supported yet")
	}
	if drvName != "" {
		b.WriteString(",backendtype=")
		switch drvName {
		case "qemu", "file":
			b.WriteString("qdisk")
		case "tap", "phy":
			b.WriteString(drvName)
		}
	}
	if disk.Device == "cdrom" {
		b.WriteString(",devtype=cdrom")
	}
	target, err := formatDiskSource(disk.Source)
	if err != nil {
		return "", err
	}
	if target != "" {
		b.WriteString(",target=" + target)
	}
	return b.String(), nil
}

func formatDiskSource(src *libvirtxml.DomainDiskSource) (string, error) {
	switch {
	case src == nil:
		return "", nil
	case src.File != nil:
		return src.File.File, nil
	case src.Block != nil:
		return src.Block.Dev, nil
	case src.Dir != nil:
		return src.Dir.Dir, nil
	case src.Network != nil:
		return formatRBD(src.Network)
	case src.Volume != nil || src.NVME != nil || src.VHostUser != nil || src.VHostVDPA != nil:
		return "", internalf("unsupported storage type for this code path")
	}
	return "", nil
}

func formatRBD(n *libvirtxml.DomainDiskSourceNetwork) (string, error) {
	if n.Protocol != "rbd" {
		return "", &Error{Code: codeNoSupport, Msg: "Unsupported network block protocol '" + n.Protocol + "'"}
	}
	if strings.Contains(n.Name, ":") {
		return "", unsupportedf("':' not allowed in RBD source volume name '%s'", n.Name)
	}
	var b strings.Builder
	b.WriteString("rbd:" + n.Name + ":auth_supported=none")
	if len(n.Hosts) > 0 {
		b.WriteString(":mon_host=")
		for i, h := range n.Hosts {
			if i > 0 {
				b.WriteString(`\\;`)
			}
			if strings.Contains(h.Name, ":") {
				b.WriteString("[" + strings.ReplaceAll(h.Name, ":", `\:`) + "]")
			} else {
				b.WriteString(h.Name)
			}
			if h.Port != "" {
				if p, err := strconv.Atoi(h.Port); err == nil && p != 0 {
					b.WriteString(`\\:` + h.Port)
				}
			}
		}
	}
	return b.String(), nil
}
