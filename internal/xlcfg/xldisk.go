package xlcfg

import (
	"fmt"
	"strings"
)

// xlDisk is a parsed xl disk spec (docs/misc/xl-disk-configuration.txt),
// the fields of libxl_device_disk that libvirt reads.
type xlDisk struct {
	target   string
	hasTgt   bool
	format   string // raw, qcow, qcow2, vhd, qed, empty; "" = unknown
	vdev     string
	access   string
	backend  string // phy, tap, qdisk, standalone; "" = unknown
	cdrom    bool
	readonly bool
}

var diskFormats = map[string]string{"raw": "raw", "qcow": "qcow", "qcow2": "qcow2",
	"vhd": "vhd", "qed": "qed", "empty": "empty", "": "",
	"xvhd": "vhd"} // libvirt writes vhd so; xl itself would refuse it

var diskBackends = map[string]bool{"phy": true, "tap": true, "qdisk": true, "standalone": true, "": true}

// parseXLDiskSpec parses one disk spec: comma-separated key=value pairs,
// flags and positional parameters (target, format, vdev, access);
// "target=" takes the rest of the spec.
func parseXLDiskSpec(spec string) (*xlDisk, error) {
	d := &xlDisk{}
	pos := 0
	rest := spec
	for rest != "" || pos == 0 {
		var item string
		rest = strings.TrimLeft(rest, " \t\n")
		if strings.HasPrefix(rest, "target=") {
			item, rest = rest, ""
		} else {
			item, rest, _ = strings.Cut(rest, ",")
		}
		if err := d.item(item, &pos); err != nil {
			return nil, err
		}
		if rest == "" {
			break
		}
	}
	return d, d.finish()
}

func (d *xlDisk) item(item string, pos *int) error {
	k, v, kv := strings.Cut(item, "=")
	if !kv {
		return d.flagOrPositional(item, pos)
	}
	switch k {
	case "target":
		d.setTarget(v)
	case "format":
		d.format = v
	case "vdev":
		d.vdev = v
	case "access":
		d.access = v
	case "devtype":
		if v != "cdrom" && v != "disk" {
			return fmt.Errorf("unknown value for devtype: %s", v)
		}
		d.cdrom = v == "cdrom"
	case "backendtype":
		d.backend = v
	case "backend", "script", "specification", "colo-host", "colo-port",
		"colo-export", "active-disk", "hidden-disk", "trusted", "untrusted":
		// accepted by xl; libvirt does not model them
	default:
		return fmt.Errorf("unknown disk parameter %q", k)
	}
	return nil
}

func (d *xlDisk) flagOrPositional(item string, pos *int) error {
	switch item {
	case "cdrom":
		d.cdrom = true
		return nil
	case "direct-io-safe", "discard", "no-discard", "colo", "trusted", "untrusted":
		return nil
	}
	switch *pos {
	case 0:
		d.setTarget(item)
	case 1:
		d.format = item
	case 2:
		d.vdev = item
	case 3:
		d.access = item
	default:
		return fmt.Errorf("too many positional parameters at %q", item)
	}
	*pos++
	return nil
}

// setTarget takes the target, with the deprecated "phy:", "file:",
// "tap:", "tap2:" and format prefixes stripped as xl strips them.
func (d *xlDisk) setTarget(t string) {
	d.hasTgt = true
	for {
		p, rest, ok := strings.Cut(t, ":")
		if !ok {
			break
		}
		switch p {
		case "phy":
			d.backend = "phy"
		case "tap", "tap2":
			d.backend = "tap"
		case "file":
		case "aio":
			d.format = "raw"
		case "raw", "qcow", "qcow2", "vhd", "qed":
			d.format = p
		default:
			d.target = t
			return
		}
		t = rest
	}
	d.target = t
}

func (d *xlDisk) finish() error {
	if f, ok := diskFormats[d.format]; ok {
		d.format = f
	} else {
		return fmt.Errorf("unknown value for format: %s", d.format)
	}
	if !diskBackends[d.backend] {
		return fmt.Errorf("unknown value for backendtype: %s", d.backend)
	}
	if v, ok := strings.CutSuffix(d.vdev, ":cdrom"); ok {
		d.vdev, d.cdrom = v, true
	}
	if d.vdev == "" {
		return fmt.Errorf("no vdev specified")
	}
	switch d.access {
	case "", "rw", "w":
	case "ro", "r":
		d.readonly = true
	default:
		return fmt.Errorf("unknown value for access: %s", d.access)
	}
	if d.cdrom {
		d.readonly = true
		if d.target == "" {
			d.format = "empty"
		}
	}
	return nil
}
