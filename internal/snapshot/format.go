package snapshot

import (
	"fmt"
	"strings"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// FormatFlag is virDomainSnapshotFormatFlags.
type FormatFlag uint32

// The format flags, with libvirt's values.
const (
	// FormatSecure shows secrets in the domain definitions (graphics
	// passwords), as VIR_DOMAIN_SNAPSHOT_XML_SECURE asks.
	FormatSecure FormatFlag = 1 << 0
	// FormatInternal writes the metadata file: <active> is added.
	FormatInternal FormatFlag = 1 << 1
	// FormatCurrent, with FormatInternal, marks the current snapshot
	// (<active>1</active>).
	FormatCurrent FormatFlag = 1 << 2
)

// XMLFlags is virDomainSnapshotFormatConvertXMLFlags: the format flags
// for virDomainSnapshotGetXMLDesc's flags (only
// VIR_DOMAIN_SNAPSHOT_XML_SECURE counts; others are ignored).
func XMLFlags(flags uint32) FormatFlag {
	return FormatFlag(flags) & FormatSecure
}

// Format is virDomainSnapshotDefFormat: the document libvirt writes for
// def, byte for byte. domainUUID is the domain's UUID, written as
// <domain><uuid> when def has no domain definition; "" writes nothing
// then.
func Format(def *Def, domainUUID string, flags FormatFlag) (string, error) {
	if bad := flags &^ (FormatSecure | FormatInternal | FormatCurrent); bad != 0 {
		return "", virerr.UnsupportedFlags(virerr.FromDomainSnapshot, uint32(bad), "virDomainSnapshotDefFormat")
	}
	var b strings.Builder
	b.WriteString("<domainsnapshot>\n")
	formatHead(&b, def)
	if len(def.Disks) > 0 {
		b.WriteString("  <disks>\n")
		if err := formatDisks(&b, def.Disks); err != nil {
			return "", err
		}
		b.WriteString("  </disks>\n")
	}
	if len(def.RevertDisks) > 0 {
		var kids strings.Builder
		if err := formatDisks(&kids, def.RevertDisks); err != nil {
			return "", err
		}
		if kids.Len() > 0 {
			b.WriteString("  <revertDisks>\n" + kids.String() + "  </revertDisks>\n")
		}
	}
	if err := formatDomains(&b, def, domainUUID, flags); err != nil {
		return "", err
	}
	formatCookie(&b, def.Cookie)
	if flags&FormatInternal != 0 {
		active := 0
		if flags&FormatCurrent != 0 {
			active = 1
		}
		fmt.Fprintf(&b, "  <active>%d</active>\n", active)
	}
	b.WriteString("</domainsnapshot>\n")
	return b.String(), nil
}

// FormatMetadata is what a driver writes to a snapshot's metadata file
// (qemuDomainSnapshotWriteMetadata's flags): everything, secrets
// included, and <active> saying whether it is the current snapshot.
func FormatMetadata(def *Def, domainUUID string, current bool) (string, error) {
	flags := FormatSecure | FormatInternal
	if current {
		flags |= FormatCurrent
	}
	return Format(def, domainUUID, flags)
}

// formatHead writes name to memory, each line as virBuffer does.
func formatHead(b *strings.Builder, def *Def) {
	esc := virstring.EscapeString
	if def.Name != "" {
		b.WriteString("  <name>" + esc(def.Name) + "</name>\n")
	}
	if def.Description != "" {
		b.WriteString("  <description>" + esc(def.Description) + "</description>\n")
	}
	if def.State != StateNoState {
		fmt.Fprintf(b, "  <state>%s</state>\n", def.State)
	}
	if def.ParentName != "" {
		b.WriteString("  <parent>\n    <name>" + esc(def.ParentName) + "</name>\n  </parent>\n")
	}
	if def.CreationTime != 0 {
		fmt.Fprintf(b, "  <creationTime>%d</creationTime>\n", def.CreationTime)
	}
	if def.Memory != LocationDefault {
		fmt.Fprintf(b, "  <memory snapshot='%s'", def.Memory)
		if def.MemoryFile != "" {
			b.WriteString(" file='" + esc(def.MemoryFile) + "'")
		}
		b.WriteString("/>\n")
	}
}

func formatDisks(b *strings.Builder, disks []Disk) error {
	for i := range disks {
		if err := formatDisk(b, &disks[i], 2); err != nil {
			return err
		}
	}
	return nil
}

// formatDomains writes the domain as it was (always the inactive view)
// and the inactive definition of a running domain.
func formatDomains(b *strings.Builder, def *Def, uuid string, flags FormatFlag) error {
	dflags := domxml.FormatInactive
	if flags&FormatSecure != 0 {
		dflags |= domxml.FormatSecure
	}
	switch {
	case def.Dom != nil:
		s, err := domxml.FormatNested(def.Dom, dflags, "domain", 1)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case uuid != "":
		b.WriteString("  <domain>\n    <uuid>" + uuid + "</uuid>\n  </domain>\n")
	}
	if def.InactiveDom != nil {
		s, err := domxml.FormatNested(def.InactiveDom, dflags, "inactiveDomain", 1)
		if err != nil {
			return err
		}
		b.WriteString(s)
	}
	return nil
}

// cookieContent is what Def.Cookie keeps of <cookie>: its content, when
// it has elements. libvirt hands the element to the driver's save-cookie
// parser and writes back what that makes of it; this daemon has no such
// parser and keeps the content as it came.
func cookieContent(c *elem) string {
	if c == nil || len(c.kids) == 0 {
		return ""
	}
	return c.inner
}

// formatCookie is virSaveCookieFormatBuf: <cookie> around the content,
// which is re-indented to its place.
func formatCookie(b *strings.Builder, cookie string) {
	if cookie == "" {
		return
	}
	c, err := parseElems("<cookie>" + cookie + "</cookie>")
	if err != nil || len(c.kids) == 0 {
		return
	}
	b.WriteString("  <cookie>\n")
	for _, k := range c.kids {
		writeElem(b, k, 2)
	}
	b.WriteString("  </cookie>\n")
}
