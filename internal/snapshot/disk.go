package snapshot

import (
	"fmt"
	"math"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// storageTypes are virStorageType's names; "none" (0) is refused where
// a type is read.
var storageTypes = []string{"none", "file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa"}

// formats are virStorageFileFormat's names; "none" (0) is refused.
var formats = []string{"none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi",
	"fat", "vhd", "ploop", "cow", "qcow", "qcow2", "qed", "vmdk"}

func index(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// parseDisk is virDomainSnapshotDiskDefParseXML.
func parseDisk(n *elem, redefine bool) (Disk, error) {
	var d Disk
	name, ok := n.attr("name")
	if !ok {
		return d, snapErr(libvirt.ErrInternalError, "missing name from disk snapshot element")
	}
	loc, err := propLocation(n, "snapshot")
	if err != nil {
		return d, err
	}
	d.Snapshot = loc
	d.Type = "file"
	if t, ok := n.attr("type"); ok {
		if index(storageTypes, t) <= 0 {
			return d, propInvalid("type", n.name, t)
		}
		d.Type = t
	}
	if d.Type == "volume" || d.Type == "dir" {
		return d, snapErr(libvirt.ErrXMLError, "unsupported disk snapshot type '%s'", d.Type)
	}
	if redefine {
		d.DeleteInProgress = n.child("snapshotDeleteInProgress") != nil
	}
	if src := n.child("source"); src != nil {
		if d.Source, err = parseSource(src, d.Type); err != nil {
			return d, err
		}
	}
	if err := parseDriver(n, &d); err != nil {
		return d, err
	}
	path := d.Path()
	if path != "" && (d.Type == "file" || d.Type == "block") && !strings.HasPrefix(path, "/") {
		return d, snapErr(libvirt.ErrXMLError, "disk snapshot image path '%s' must be absolute", path)
	}
	if d.Snapshot == LocationDefault && (path != "" || d.Format != "") {
		d.Snapshot = LocationExternal
	}
	d.Name = name
	return d, nil
}

// parseDriver reads the new image's format and metadata cache size.
func parseDriver(n *elem, d *Disk) error {
	if f, ok := firstAttr(n.children("driver"), "type"); ok && f != "" {
		if index(formats, f) <= 0 {
			return snapErr(libvirt.ErrConfigUnsupported, "unknown disk snapshot driver '%s'", f)
		}
		d.Format = f
	}
	var sizes []*elem
	for _, drv := range n.children("driver") {
		for _, mc := range drv.children("metadata_cache") {
			sizes = append(sizes, mc.children("max_size")...)
		}
	}
	if len(sizes) == 0 || sizes[0].str() == "" {
		return nil
	}
	const xpath = "./driver/metadata_cache/max_size"
	v, ok := virstring.ToULLP(sizes[0].str())
	if !ok {
		return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
			"Invalid value '%s' for element or attribute '%s'", sizes[0].str(), xpath)
	}
	unit, _ := firstAttr(sizes, "unit")
	size, err := virstring.ScaleInteger(v, unit, 1, math.MaxUint64)
	if err != nil {
		return err
	}
	d.MetadataCacheMaxSize = size
	return nil
}

// firstAttr is string(./x/@attr): the first such attribute of any of
// the elements, in document order.
func firstAttr(els []*elem, attr string) (string, bool) {
	for _, e := range els {
		if v, ok := e.attr(attr); ok {
			return v, true
		}
	}
	return "", false
}

// formatDisk is virDomainSnapshotDiskDefFormat at the given depth.
// libvirt skips a disk without a name, which its parser never leaves; an
// empty name attribute is one, and written, as libvirt writes it: a disk
// dropped here made a redefined snapshot's metadata differ when read back.
func formatDisk(b *strings.Builder, d *Disk, depth int) error {
	ind := strings.Repeat("  ", depth)
	attrs := fmt.Sprintf(" name='%s'", virstring.EscapeString(d.Name))
	if d.Snapshot > LocationDefault {
		attrs += fmt.Sprintf(" snapshot='%s'", d.Snapshot)
	}
	var kids strings.Builder
	if d.DeleteInProgress {
		kids.WriteString(ind + "  <snapshotDeleteInProgress/>\n")
	}
	if d.Path() != "" || d.Format != "" {
		attrs += fmt.Sprintf(" type='%s'", d.storageType())
		formatDriver(&kids, d, depth+1)
		if err := formatSource(&kids, d, depth+1); err != nil {
			return err
		}
	}
	if kids.Len() == 0 {
		b.WriteString(ind + "<disk" + attrs + "/>\n")
		return nil
	}
	b.WriteString(ind + "<disk" + attrs + ">\n" + kids.String() + ind + "</disk>\n")
	return nil
}

func formatDriver(b *strings.Builder, d *Disk, depth int) {
	ind := strings.Repeat("  ", depth)
	attrs := ""
	if d.Format != "" {
		attrs = fmt.Sprintf(" type='%s'", virstring.EscapeString(d.Format))
	}
	if d.MetadataCacheMaxSize == 0 {
		if attrs != "" {
			b.WriteString(ind + "<driver" + attrs + "/>\n")
		}
		return
	}
	fmt.Fprintf(b, "%s<driver%s>\n%s  <metadata_cache>\n%s    <max_size unit='bytes'>%d</max_size>\n%s  </metadata_cache>\n%s</driver>\n",
		ind, attrs, ind, ind, d.MetadataCacheMaxSize, ind, ind)
}
