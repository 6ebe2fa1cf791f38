package domxml

import (
	"sort"
)

// featureOrder is virDomainFeature's enum order, in which libvirt prints
// <features> (libvirtxml's struct has another).
var featureOrder = []string{
	"acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm",
	"pvspinlock", "capabilities", "pmu", "vmport", "gic", "smm", "ioapic",
	"hpt", "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist", "xen",
	"cfpc", "sbbc", "ibs", "tcg", "async-teardown", "ras", "ps2", "aia",
}

// attrOrders gives libvirt's attribute order for elements where
// libvirtxml's differs, keyed by "parent/element" (or "element" for any
// parent). Attributes not listed keep their order after the listed ones.
var attrOrders = map[string][]string{
	"domain/memory":   {"dumpCore", "unit"},
	"video/model":     {"type", "ram", "vram", "vram64", "vgamem", "heads", "primary", "blob", "edid"},
	"graphics":        {"type", "socket", "port", "tlsPort", "autoport", "websocket", "listen", "keymap", "defaultMode", "sharePolicy", "powerControl", "passwd", "passwdValidTo", "connected"},
	"os/loader":       {"readonly", "secure", "stateless", "type", "format"},
	"domain/vcpu":     {"placement", "cpuset", "current"},
	"domain/cpu":      {"mode", "match", "check", "migratable", "deprecated_features"},
	"interface/model": {"type"},
	"clock":           {"offset", "timezone", "adjustment", "basis", "start"},
	"clock/timer":     {"name", "present", "tickpolicy", "track", "frequency", "mode"},
	"controller":      {"type", "index", "model", "ports", "vectors", "maxGrantFrames", "maxEventChannels"},

	// virDomainActualNetDefContentsFormat's order; other sources have
	// none of these.
	"interface/source": {"network", "portgroup", "portid", "bridge", "macTableManager"},
}

// childOrders gives libvirt's child element order where libvirtxml's
// differs, keyed like attrOrders.
var childOrders = map[string][]string{
	"devices/interface": {"mac", "source", "vlan", "virtualport", "bandwidth", "port",
		"ip", "route", "portForward", "script", "downscript", "backenddomain", "target",
		"guest", "model", "driver", "backend", "filterref", "tune", "teaming", "link",
		"mtu", "coalesce", "boot", "alias", "rom", "acpi", "address"},
	"hostdev/source": {"vendor", "product", "address", "adapter"},
	// virDomainDiskDefFormatIotune: the size and group before the lengths.
	"disk/iotune": {"total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
		"total_iops_sec", "read_iops_sec", "write_iops_sec",
		"total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
		"total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
		"size_iops_sec", "group_name",
		"total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
		"total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length"},
}

// infoTail is virDomainDeviceInfoFormat's order, which ends every device.
var infoTail = []string{"alias", "master", "rom", "acpi", "zpci", "address"}

// libvirtOrder rewrites libvirtxml's element and attribute order where it
// differs from libvirt's formatter.
func libvirtOrder(root *node) {
	walk(root, "", func(n *node, parent string) {
		if n.name == "features" && parent == "domain" {
			sortKids(n, featureOrder)
		}
		if order, ok := childOrders[parent+"/"+n.name]; ok {
			sortKids(n, order)
		} else if parent == "devices" {
			sortTail(n, infoTail)
		}
		if n.name == "virtualport" {
			dropEmpty(n, "parameters")
		}
		if n.name == "mirror" && parent == "disk" {
			mirrorAttrs(n)
		}
		if order, ok := attrOrders[parent+"/"+n.name]; ok {
			sortAttrs(n, order)
		} else if order, ok := attrOrders[n.name]; ok {
			sortAttrs(n, order)
		}
	})
}

// mirrorAttrs is virDomainDiskDefFormatMirror's choice: only a block
// copy's mirror repeats its file and format as attributes (libvirtxml
// writes them for every file mirror).
func mirrorAttrs(n *node) {
	for _, a := range n.attrs {
		if a.name == "job" && a.value == "copy" {
			return
		}
	}
	kept := n.attrs[:0]
	for _, a := range n.attrs {
		if a.name != "file" && a.name != "format" {
			kept = append(kept, a)
		}
	}
	n.attrs = kept
}

func walk(n *node, parent string, f func(*node, string)) {
	if n.isTxt {
		return
	}
	f(n, parent)
	if n.name == "metadata" {
		return // foreign XML keeps its own order
	}
	for _, k := range n.kids {
		walk(k, n.name, f)
	}
}

func rank(order []string, name string) int {
	for i, o := range order {
		if o == name {
			return i
		}
	}
	return len(order)
}

func sortKids(n *node, order []string) {
	sort.SliceStable(n.kids, func(i, j int) bool {
		return rank(order, n.kids[i].name) < rank(order, n.kids[j].name)
	})
}

func sortAttrs(n *node, order []string) {
	sort.SliceStable(n.attrs, func(i, j int) bool {
		return rank(order, n.attrs[i].name) < rank(order, n.attrs[j].name)
	})
}

// sortTail moves the listed children to the end, in the listed order.
func sortTail(n *node, tail []string) {
	r := func(k *node) int {
		if i := rank(tail, k.name); i < len(tail) {
			return i + 1
		}
		return 0
	}
	sort.SliceStable(n.kids, func(i, j int) bool { return r(n.kids[i]) < r(n.kids[j]) })
}

// dropEmpty removes children with that name that have neither attributes
// nor content (libvirtxml writes some optional elements always).
func dropEmpty(n *node, name string) {
	kept := n.kids[:0]
	for _, k := range n.kids {
		if !k.isTxt && k.name == name && len(k.attrs) == 0 && len(k.kids) == 0 {
			continue
		}
		kept = append(kept, k)
	}
	n.kids = kept
}
