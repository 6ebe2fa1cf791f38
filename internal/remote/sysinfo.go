package remote

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// dmiDir is where Linux exposes the host's SMBIOS strings.
const dmiDir = "/sys/class/dmi/id"

// hostSysinfo formats the host's SMBIOS BIOS and system strings as
// libvirt's <sysinfo type='smbios'>; false when the host exposes none.
func hostSysinfo() (string, bool) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dmiDir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	sections := []struct {
		tag    string
		fields [][2]string
	}{
		{"bios", [][2]string{{"vendor", "bios_vendor"}, {"version", "bios_version"}, {"date", "bios_date"}, {"release", "bios_release"}}},
		{"system", [][2]string{{"manufacturer", "sys_vendor"}, {"product", "product_name"}, {"version", "product_version"},
			{"serial", "product_serial"}, {"uuid", "product_uuid"}, {"sku", "product_sku"}, {"family", "product_family"}}},
	}
	var b strings.Builder
	any := false
	b.WriteString("<sysinfo type='smbios'>\n")
	for _, s := range sections {
		var entries strings.Builder
		for _, f := range s.fields {
			if v := read(f[1]); v != "" {
				fmt.Fprintf(&entries, "    <entry name='%s'>%s</entry>\n", f[0], html.EscapeString(v))
			}
		}
		if entries.Len() > 0 {
			any = true
			fmt.Fprintf(&b, "  <%s>\n%s  </%s>\n", s.tag, entries.String(), s.tag)
		}
	}
	b.WriteString("</sysinfo>\n")
	return b.String(), any
}
