// Package caller says who is calling: the RPC client and the procedure it
// called, carried in a context.Context from the RPC layer to whatever the
// call reaches (the driver's job object records it as a job's owner, as
// libvirt's virThreadJobSet does). It imports nothing of the daemon, so both
// ends may use it without depending on each other.
package caller

import (
	"context"
	"strings"
)

// Call identifies one call: the client that made it and the procedure.
type Call struct {
	// Client is the RPC client's id (virt-admin's client id); 0 is the
	// daemon itself (recovery, autostart, guest events).
	Client uint64
	// Procedure is the procedure's name in its protocol definition, e.g.
	// "DOMAIN_SAVE".
	Procedure string
}

type key struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// From returns the call ctx carries; the zero Call (the daemon) if none.
func From(ctx context.Context) Call {
	c, _ := ctx.Value(key{}).(Call)
	return c
}

// Dispatcher is the name of libvirt's server-side dispatcher for the call
// ("remoteDispatchDomainSave"), which libvirt records as a job's owner and
// names in "cannot acquire state change lock (held by monitor=...)". It is
// "" for the daemon's own work.
func (c Call) Dispatcher() string {
	if c.Procedure == "" {
		return ""
	}
	return "remoteDispatch" + procName(c.Procedure)
}

// procName is gendispatch.pl's name_to_ProcName: DOMAIN_GET_XML_DESC
// becomes DomainGetXMLDesc, with libvirt's fixed spellings.
func procName(wire string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(wire), "_") {
		if w == "" {
			continue
		}
		b.WriteString(fixup(strings.ToUpper(w[:1]) + w[1:]))
	}
	return b.String()
}

// fixups are gendispatch.pl's fixup_name rules, applied to each word: a
// suffix rule only matches at the word's end, a prefix rule anywhere.
var fixups = []struct {
	from, to string
	suffix   bool
}{
	{"Nwfilter", "NWFilter", false}, {"Xml", "XML", true}, {"Xml2", "XML2", true},
	{"Uri", "URI", true}, {"Uuid", "UUID", true}, {"Id", "ID", true}, {"Mac", "MAC", true},
	{"Cpu", "CPU", true}, {"Os", "OS", true}, {"Nmi", "NMI", true}, {"Pm", "PM", false},
	{"Fstrim", "FSTrim", true}, {"Fsfreeze", "FSFreeze", true}, {"Fsthaw", "FSThaw", true},
	{"Fsinfo", "FSInfo", true}, {"Iothread", "IOThread", true}, {"Scsi", "SCSI", false},
	{"Wwn", "WWN", true}, {"Dhcp", "DHCP", true},
}

func fixup(w string) string {
	for _, f := range fixups {
		switch {
		case f.suffix && strings.HasSuffix(w, f.from):
			w = strings.TrimSuffix(w, f.from) + f.to
		case !f.suffix && strings.Contains(w, f.from):
			w = strings.Replace(w, f.from, f.to, 1)
		}
	}
	return w
}
