package sysinfo

import (
	"errors"
	"testing"
)

// qemu is dmidecode -q -t 0,1,2,3,4,11,17 of a QEMU machine like test/xen's,
// with an OEM section and an empty memory slot added.
const qemu = `BIOS Information
	Vendor: SeaBIOS
	Version: 1.16.2-debian-1.16.2-1
	Release Date: 04/01/2014
	Address: 0xE8000
	Runtime Size: 96 kB
	ROM Size: 64 kB
	Characteristics:
		BIOS characteristics not supported
		Targeted content distribution is supported
	BIOS Revision: 0.0

System Information
	Manufacturer: QEMU
	Product Name: Standard PC (i440FX + PIIX, 1996)
	Version: pc-i440fx-7.2
	Wake-up Type: Power Switch

Chassis Information
	Manufacturer: QEMU
	Type: Other
	Lock: Not Present
	Version: pc-i440fx-7.2
	Boot-up State: Safe

Processor Information
	Socket Designation: CPU 0
	Type: Central Processor
	Family: Other
	Manufacturer: QEMU
	ID: 63 06 00 00 FD FB 8B 07
	Version: pc-i440fx-7.2
	Voltage: Unknown
	External Clock: Unknown
	Max Speed: 2000 MHz
	Current Speed: 2000 MHz
	Status: Populated, Enabled

OEM Strings
	String 1: a<b & 'c'
	String 2: v1.2

Memory Device
	Array Handle: 0x1000
	Total Width: Unknown
	Size: 1 GB
	Form Factor: DIMM
	Locator: DIMM 0
	Bank Locator: Not Specified
	Type: RAM
	Type Detail: Other
	Manufacturer: QEMU

Memory Device
	Size: No Module Installed
	Form Factor: DIMM
`

func TestParseQEMU(t *testing.T) {
	d, err := Parse(qemu, func(idx int) (string, error) {
		if idx != 2 {
			t.Errorf("OEM string %d dumped; only one with a dot is", idx)
		}
		return "v1\n2", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>SeaBIOS</entry>
    <entry name='version'>1.16.2-debian-1.16.2-1</entry>
    <entry name='date'>04/01/2014</entry>
    <entry name='release'>0.0</entry>
  </bios>
  <system>
    <entry name='manufacturer'>QEMU</entry>
    <entry name='product'>Standard PC (i440FX + PIIX, 1996)</entry>
    <entry name='version'>pc-i440fx-7.2</entry>
    <entry name='family'>Other</entry>
  </system>
  <chassis>
    <entry name='manufacturer'>QEMU</entry>
    <entry name='version'>pc-i440fx-7.2</entry>
  </chassis>
  <processor>
    <entry name='socket_destination'>CPU 0</entry>
    <entry name='type'>Central Processor</entry>
    <entry name='family'>Other</entry>
    <entry name='manufacturer'>QEMU</entry>
    <entry name='version'>pc-i440fx-7.2</entry>
    <entry name='external_clock'>Unknown</entry>
    <entry name='max_speed'>2000 MHz</entry>
    <entry name='status'>Populated, Enabled</entry>
  </processor>
  <memory_device>
    <entry name='size'>1 GB</entry>
    <entry name='form_factor'>DIMM</entry>
    <entry name='locator'>DIMM 0</entry>
    <entry name='bank_locator'>Not Specified</entry>
    <entry name='type'>RAM</entry>
    <entry name='type_detail'>Other</entry>
    <entry name='manufacturer'>QEMU</entry>
  </memory_device>
  <oemStrings>
    <entry>a&lt;b &amp; &apos;c&apos;</entry>
    <entry>v1
2</entry>
  </oemStrings>
</sysinfo>
`
	// The system has no family of its own: libvirt looks for each field
	// from its section's title to the end of the output, and finds the
	// processor's.
	if got := d.Format(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseEmptyAndMalformed(t *testing.T) {
	d, err := Parse("# No SMBIOS nor DMI entry point found, sorry.\n", nil)
	if err != nil || len(d.Sections) != 0 {
		t.Errorf("%+v, %v", d, err)
	}
	if _, err := Parse("OEM Strings\n\tString x: y\n", nil); err == nil {
		t.Error("malformed OEM string accepted")
	}
	if _, err := Parse("OEM Strings\n\tString 1: a.b\n", func(int) (string, error) { return "", errors.New("no") }); err == nil {
		t.Error("a failed --oem-string dump accepted")
	}
}
