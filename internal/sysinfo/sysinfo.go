// Package sysinfo is the host's SMBIOS description as libvirt gives it
// (virsh sysinfo): what dmidecode prints, read as virSysinfoReadDMI reads
// it, formatted as virSysinfoFormat formats it.
//
// libvirt finds each field with strstr from the start of its section to the
// end of dmidecode's whole output, so that a field a section lacks may be
// taken from a later one; Parse does the same, for the same answers.
package sysinfo

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"virtxend/internal/virstring"
)

// Args are dmidecode's arguments in virSysinfoReadDMI: BIOS, system, base
// board, chassis, processor, OEM strings and memory device records.
var Args = []string{"-q", "-t", "0,1,2,3,4,11,17"}

// Entry is one named value of a section.
type Entry struct{ Name, Value string }

// Section is one element of <sysinfo>: its tag and its entries in
// libvirt's order (only those with a value).
type Section struct {
	Tag     string
	Entries []Entry
}

// Def is a parsed description: its sections in libvirt's order.
type Def struct{ Sections []Section }

// Read runs dmidecode and parses its output.
func Read(ctx context.Context) (*Def, error) {
	out, err := exec.CommandContext(ctx, "dmidecode", Args...).Output()
	if err != nil {
		return nil, fmt.Errorf("dmidecode: %w", err)
	}
	return Parse(string(out), oemString(ctx))
}

// oemString runs "dmidecode --dump --oem-string N", which libvirt asks
// for an OEM string holding a dot (dmidecode prints a newline so).
func oemString(ctx context.Context) func(int) (string, error) {
	return func(idx int) (string, error) {
		cmd := exec.CommandContext(ctx, "dmidecode", "--dump", "--oem-string", strconv.Itoa(idx))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", err
		}
		if len(out) == 0 && stderr.Len() > 0 {
			return "", errors.New(strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSuffix(string(out), "\n"), nil
	}
}

// field is one "Label: " of a record and the entry it gives.
type field struct{ label, name string }

var (
	biosFields = []field{{"Vendor: ", "vendor"}, {"Version: ", "version"},
		{"Release Date: ", "date"}, {"BIOS Revision: ", "release"}}
	systemFields = []field{{"Manufacturer: ", "manufacturer"}, {"Product Name: ", "product"},
		{"Version: ", "version"}, {"Serial Number: ", "serial"}, {"UUID: ", "uuid"},
		{"SKU Number: ", "sku"}, {"Family: ", "family"}}
	boardFields = []field{{"Manufacturer: ", "manufacturer"}, {"Product Name: ", "product"},
		{"Version: ", "version"}, {"Serial Number: ", "serial"}, {"Asset Tag: ", "asset"},
		{"Location In Chassis: ", "location"}}
	chassisFields = []field{{"Manufacturer: ", "manufacturer"}, {"Version: ", "version"},
		{"Serial Number: ", "serial"}, {"Asset Tag: ", "asset"}, {"SKU Number: ", "sku"}}
	processorFields = []field{{"Socket Designation: ", "socket_destination"}, {"Type: ", "type"},
		{"Family: ", "family"}, {"Manufacturer: ", "manufacturer"}, {"Signature: ", "signature"},
		{"Version: ", "version"}, {"External Clock: ", "external_clock"}, {"Max Speed: ", "max_speed"},
		{"Status: ", "status"}, {"Serial Number: ", "serial_number"}, {"Part Number: ", "part_number"}}
	memoryFields = []field{{"Size: ", "size"}, {"Form Factor: ", "form_factor"}, {"Locator: ", "locator"},
		{"Bank Locator: ", "bank_locator"}, {"Type: ", "type"}, {"Type Detail: ", "type_detail"},
		{"Speed: ", "speed"}, {"Manufacturer: ", "manufacturer"}, {"Serial Number: ", "serial_number"},
		{"Part Number: ", "part_number"}}
)

// value is what follows label in s up to the end of its line, trailing
// blanks trimmed (virSkipSpacesBackwards); "" when absent or blank.
func value(s, label string) string {
	i := strings.Index(s, label)
	if i < 0 {
		return ""
	}
	v := s[i+len(label):]
	if eol := strings.IndexByte(v, '\n'); eol >= 0 {
		v = v[:eol]
	}
	return strings.TrimRight(v, " \t\r\v\f")
}

func entries(s string, fields []field) []Entry {
	var out []Entry
	for _, f := range fields {
		if v := value(s, f.label); v != "" {
			out = append(out, Entry{f.name, v})
		}
	}
	return out
}

// Parse reads dmidecode's output as virSysinfoReadDMI does. oem fetches
// an OEM string that holds a dot; nil keeps it as printed.
func Parse(out string, oem func(int) (string, error)) (*Def, error) {
	d := &Def{}
	one := func(title, tag string, fields []field) {
		if i := strings.Index(out, title); i >= 0 {
			if es := entries(out[i:], fields); len(es) > 0 {
				d.Sections = append(d.Sections, Section{tag, es})
			}
		}
	}
	one("BIOS Information", "bios", biosFields)
	one("System Information", "system", systemFields)
	d.Sections = append(d.Sections, every(out, "Base Board Information", "baseBoard", boardFields)...)
	one("Chassis Information", "chassis", chassisFields)
	d.Sections = append(d.Sections, every(out, "Processor Information", "processor", processorFields)...)
	d.Sections = append(d.Sections, memoryDevices(out)...)
	oems, err := oemStrings(out, oem)
	if err != nil {
		return nil, err
	}
	if oems != nil {
		d.Sections = append(d.Sections, *oems)
	}
	return d, nil
}

// every is a section for each record titled title, as libvirt reads the
// base boards and processors; one without a value is left out.
func every(out, title, tag string, fields []field) []Section {
	var ss []Section
	for base := out; ; {
		i := strings.Index(base, title)
		if i < 0 {
			return ss
		}
		base = base[i:]
		if es := entries(base, fields); len(es) > 0 {
			ss = append(ss, Section{tag, es})
		}
		base = base[len(title):]
	}
}

// memoryDevices is virSysinfoParseX86Memory: a slot whose size begins
// what "No Module Installed" says is left out (libvirt's STREQLEN over the
// size's line: a line that is a prefix of it, the empty one included).
func memoryDevices(out string) []Section {
	const title = "Memory Device"
	var ss []Section
	for base := out; ; base = base[len(title):] {
		i := strings.Index(base, title)
		if i < 0 {
			return ss
		}
		base = base[i:]
		if j := strings.Index(base, "Size: "); j >= 0 {
			line := base[j+len("Size: "):]
			if eol := strings.IndexByte(line, '\n'); eol >= 0 {
				line = line[:eol]
			}
			if strings.HasPrefix("No Module Installed", line) {
				continue
			}
		}
		if es := entries(base, memoryFields); len(es) > 0 {
			ss = append(ss, Section{"memory_device", es})
		}
	}
}

// oemStrings is virSysinfoParseOEMStrings: every "String N: value" after
// the OEM Strings title.
func oemStrings(out string, oem func(int) (string, error)) (*Section, error) {
	i := strings.Index(out, "OEM Strings")
	if i < 0 {
		return nil, nil
	}
	s := &Section{Tag: "oemStrings"}
	malformed := errors.New("Malformed output of dmidecode")
	for cur := out[i:]; ; {
		j := strings.Index(cur, "String ")
		if j < 0 {
			return s, nil
		}
		cur = cur[j+len("String "):]
		eol := strings.IndexByte(cur, '\n')
		if eol < 0 {
			return nil, malformed
		}
		digits := len(cur) - len(strings.TrimLeft(cur, "0123456789"))
		idx, err := strconv.Atoi(cur[:digits])
		if err != nil || !strings.HasPrefix(cur[digits:], ": ") {
			return nil, malformed
		}
		v := strings.TrimRight(cur[digits+2:eol], " \t\r\v\f")
		cur = cur[eol:]
		if v == "" {
			continue
		}
		if strings.Contains(v, ".") && oem != nil {
			if v, err = oem(idx); err != nil {
				return nil, err
			}
		}
		s.Entries = append(s.Entries, Entry{Value: v})
	}
}

// Format is virSysinfoFormat of an SMBIOS description.
func (d *Def) Format() string {
	var b strings.Builder
	b.WriteString("<sysinfo type='smbios'>\n")
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "  <%s>\n", s.Tag)
		for _, e := range s.Entries {
			if e.Name == "" {
				fmt.Fprintf(&b, "    <entry>%s</entry>\n", virstring.EscapeString(e.Value))
			} else {
				fmt.Fprintf(&b, "    <entry name='%s'>%s</entry>\n", e.Name, virstring.EscapeString(e.Value))
			}
		}
		fmt.Fprintf(&b, "  </%s>\n", s.Tag)
	}
	b.WriteString("</sysinfo>\n")
	return b.String()
}
