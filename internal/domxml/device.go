package domxml

import (
	"crypto/rand"
	"encoding/xml"
	"io"
	"reflect"

	"libvirt.org/go/libvirtxml"
)

// Device is one device of a device definition, the XML that
// virDomainAttachDevice, virDomainDetachDevice and virDomainUpdateDevice
// take (libvirt's virDomainDeviceDef). Kind is libvirt's name of its type,
// as its errors print it; the field of the kinds Xen's hotplug knows is
// set, the others carry only their kind.
type Device struct {
	// Kind is virDomainDeviceTypeToString of the device: "disk",
	// "interface", "controller", "hostdev", ..., "chr" for serial,
	// parallel, console and channel.
	Kind       string
	Disk       *libvirtxml.DomainDisk
	Interface  *libvirtxml.DomainInterface
	Controller *libvirtxml.DomainController
	Hostdev    *libvirtxml.DomainHostdev
	// MACGenerated: the interface named no MAC and was given one
	// (virDomainNetDef's mac_generated), so a lookup ignores it.
	MACGenerated bool
}

// DeviceOptions tune ParseDevice.
type DeviceOptions struct {
	// SkipValidate leaves out the validation, as a detach parses
	// (VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE): a device named to be removed
	// need not be one that could be added.
	SkipValidate bool
	// Rand is the randomness for a generated MAC; nil means crypto/rand.
	Rand io.Reader
}

// deviceKinds maps a device element to its virDomainDeviceType name
// (virDomainDeviceDefParseType).
var deviceKinds = map[string]string{
	"none": "none", "disk": "disk", "lease": "lease", "filesystem": "filesystem",
	"interface": "interface", "input": "input", "sound": "sound", "video": "video",
	"hostdev": "hostdev", "watchdog": "watchdog", "controller": "controller",
	"graphics": "graphics", "hub": "hub", "redirdev": "redirdev", "smartcard": "smartcard",
	"memballoon": "memballoon", "nvram": "nvram", "rng": "rng", "shmem": "shmem",
	"tpm": "tpm", "panic": "panic", "memory": "memory", "iommu": "iommu",
	"vsock": "vsock", "audio": "audio", "crypto": "crypto", "pstore": "pstore",
	"channel": "chr", "console": "chr", "parallel": "chr", "serial": "chr",
}

// otherDevices are the libvirtxml types of the kinds Xen's hotplug refuses:
// they are still read, so that what is not even a device fails as such.
var otherDevices = map[string]func() any{
	"lease": func() any { return &libvirtxml.DomainLease{} }, "filesystem": func() any { return &libvirtxml.DomainFilesystem{} },
	"input": func() any { return &libvirtxml.DomainInput{} }, "sound": func() any { return &libvirtxml.DomainSound{} },
	"video": func() any { return &libvirtxml.DomainVideo{} }, "watchdog": func() any { return &libvirtxml.DomainWatchdog{} },
	"graphics": func() any { return &libvirtxml.DomainGraphic{} }, "hub": func() any { return &libvirtxml.DomainHub{} },
	"redirdev": func() any { return &libvirtxml.DomainRedirDev{} }, "smartcard": func() any { return &libvirtxml.DomainSmartcard{} },
	"memballoon": func() any { return &libvirtxml.DomainMemBalloon{} }, "nvram": func() any { return &libvirtxml.DomainNVRAM{} },
	"rng": func() any { return &libvirtxml.DomainRNG{} }, "shmem": func() any { return &libvirtxml.DomainShmem{} },
	"tpm": func() any { return &libvirtxml.DomainTPM{} }, "panic": func() any { return &libvirtxml.DomainPanic{} },
	"memory": func() any { return &libvirtxml.DomainMemorydev{} }, "iommu": func() any { return &libvirtxml.DomainIOMMU{} },
	"vsock": func() any { return &libvirtxml.DomainVSock{} }, "audio": func() any { return &libvirtxml.DomainAudio{} },
	"crypto": func() any { return &libvirtxml.DomainCrypto{} }, "pstore": func() any { return &libvirtxml.DomainPStore{} },
	"channel": func() any { return &libvirtxml.DomainChannel{} }, "console": func() any { return &libvirtxml.DomainConsole{} },
	"parallel": func() any { return &libvirtxml.DomainParallel{} }, "serial": func() any { return &libvirtxml.DomainSerial{} },
}

// ParseDevice reads a device definition for the domain def (its live
// definition, as libvirt passes it) as virDomainDeviceDefParse does with
// VIR_DOMAIN_DEF_PARSE_INACTIVE: the XML is checked, then the device gets
// the defaults it would get in a domain (a disk's bus, format, read-only
// cdrom and drive address; an interface's MAC) and, unless skipped, the
// validation (a hard disk's name and source, filterref). Made-up interface
// names and aliases that are not user aliases are dropped. Errors are
// libvirt's.
func ParseDevice(doc string, def *libvirtxml.Domain, o DeviceOptions) (*Device, error) {
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	root, err := parseDocumentNamed(doc, "(device_definition)", "")
	if err != nil {
		return nil, err
	}
	kind, ok := deviceKinds[root.name]
	if !ok {
		return nil, unsupported("unknown device type '%s'", root.name)
	}
	if err := checkDeviceNode(root); err != nil {
		return nil, err
	}
	doc = decodedText(doc, root, childFields(deviceListType)[root.name].elem, []*node{root})
	dev := &Device{Kind: kind}
	switch kind {
	case "disk":
		err = parseDisk(dev, root, doc, def, o)
	case "interface":
		err = parseInterface(dev, root, doc, o)
	case "controller":
		dev.Controller = &libvirtxml.DomainController{}
		err = unmarshalDevice(doc, dev.Controller)
		if err == nil {
			dropAlias(&dev.Controller.Alias)
		}
	case "hostdev":
		err = parseHostdev(dev, doc, def)
	case "none":
	default:
		err = unmarshalDevice(doc, otherDevices[root.name]())
	}
	if err != nil {
		return nil, err
	}
	return dev, nil
}

func parseDisk(dev *Device, root *node, doc string, def *libvirtxml.Domain, o DeviceOptions) error {
	if err := checkDiskNode(root); err != nil {
		return err
	}
	disk := &libvirtxml.DomainDisk{}
	if err := unmarshalDevice(doc, disk); err != nil {
		return err
	}
	dropAlias(&disk.Alias)
	if err := diskPostParse(def, disk); err != nil {
		return err
	}
	if !o.SkipValidate {
		if err := checkDisk(*disk); err != nil {
			return err
		}
	}
	dev.Disk = disk
	return nil
}

func parseInterface(dev *Device, root *node, doc string, o DeviceOptions) error {
	ifc := &libvirtxml.DomainInterface{}
	if err := unmarshalDevice(doc, ifc); err != nil {
		return err
	}
	if !anyFieldSet(ifc.Source) {
		// A type libvirtxml does not know: libvirt's virXMLPropEnum error.
		typ, _ := root.attr("type")
		return enumErr("type", "interface", typ)
	}
	generated, err := normalizeMAC(ifc, o.Rand)
	if err != nil {
		return err
	}
	dropGeneratedIfname(ifc)
	dropAlias(&ifc.Alias)
	if !o.SkipValidate && ifc.FilterRef != nil {
		return unsupported("filterref is not supported in %s", "xen")
	}
	dev.Interface, dev.MACGenerated = ifc, generated
	return nil
}

// parseHostdev reads a host device whose mode and type checkHostdevShape
// took: the ones libvirtxml reads.
func parseHostdev(dev *Device, doc string, def *libvirtxml.Domain) error {
	h := &libvirtxml.DomainHostdev{}
	if err := unmarshalDevice(doc, h); err != nil {
		return err
	}
	dropAlias(&h.Alias)
	if err := hostdevPostParse(def, h); err != nil {
		return err
	}
	dev.Hostdev = h
	return nil
}

// dropAlias keeps only a user alias, as an inactive parse does.
func dropAlias(a **libvirtxml.DomainAlias) {
	if *a != nil && !IsUserAlias((*a).Name) {
		*a = nil
	}
}

// unmarshalDevice reads doc into v; libvirtxml's own errors (a bad number,
// an unknown enum value) become XML errors, as unmarshal's do.
func unmarshalDevice(doc string, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = xmlErr("%v", r)
		}
	}()
	if uerr := xml.Unmarshal([]byte(doc), v); uerr != nil {
		return xmlErr("%s", uerr.Error())
	}
	// What libvirtxml reads but cannot write is what libvirt refuses too.
	if _, merr := xml.Marshal(v); merr != nil {
		return xmlErr("%s", merr.Error())
	}
	return nil
}

// anyFieldSet reports whether a libvirtxml union (a struct of pointers,
// one per member) has a member set.
func anyFieldSet(v any) bool {
	r := reflect.ValueOf(v)
	if r.Kind() != reflect.Pointer || r.IsNil() {
		return false
	}
	r = r.Elem()
	for i := 0; i < r.NumField(); i++ {
		if f := r.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			return true
		}
	}
	return false
}
