package procfile

import (
	"regexp"
	"strings"
)

// Fixups are the substitutions of fixup_name in libvirt's
// src/rpc/gendispatch.pl, in its order: each applies once to each word of
// a procedure name. The extract step checks them against the libvirt it
// reads.
var Fixups = [][2]string{
	{"Nwfilter", "NWFilter"}, {"Xml$", "XML"}, {"Xml2$", "XML2"}, {"Uri$", "URI"},
	{"Uuid$", "UUID"}, {"Id$", "ID"}, {"Mac$", "MAC"}, {"Cpu$", "CPU"}, {"Os$", "OS"},
	{"Nmi$", "NMI"}, {"Pm", "PM"}, {"Fstrim$", "FSTrim"}, {"Fsfreeze$", "FSFreeze"},
	{"Fsthaw$", "FSThaw"}, {"Fsinfo$", "FSInfo"}, {"Iothread$", "IOThread"}, {"Scsi", "SCSI"},
	{"Wwn$", "WWN"}, {"Dhcp$", "DHCP"},
}

var fixupRes = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(Fixups))
	for i, f := range Fixups {
		out[i] = regexp.MustCompile(f[0])
	}
	return out
}()

// ProcName is the name libvirt's gendispatch.pl gives a procedure
// (name_to_ProcName): DOMAIN_GET_OS_TYPE is DomainGetOSType, whose
// generated server dispatcher calls virDomainGetOSType.
func ProcName(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if w == "" {
			continue
		}
		w = strings.ToUpper(w[:1]) + w[1:]
		for i, re := range fixupRes {
			done := false
			w = re.ReplaceAllStringFunc(w, func(m string) string {
				if done { // s/// without g: the first match only
					return m
				}
				done = true
				return Fixups[i][1]
			})
		}
		b.WriteString(w)
	}
	return b.String()
}
