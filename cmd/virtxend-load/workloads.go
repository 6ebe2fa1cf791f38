package main

import (
	"fmt"
	"sync/atomic"

	libvirt "github.com/digitalocean/go-libvirt"
)

// workload is one kind of call sequence; op runs it once on a connection.
type workload struct {
	name  string
	setup func(l *libvirt.Libvirt, s settings) error // once, before the run
	op    func(l *libvirt.Libvirt, s settings, seq int64) error
}

var workloads = []workload{
	{name: "version", op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		_, err := l.ConnectGetLibVersion()
		return err
	}},
	{name: "lookup", op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		_, err := l.DomainLookupByName(fixedName)
		return err
	}},
	{name: "dumpxml", op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		d, err := l.DomainLookupByName(fixedName)
		if err != nil {
			return err
		}
		_, err = l.DomainGetXMLDesc(d, 0)
		return err
	}},
	{name: "define-undefine", op: func(l *libvirt.Libvirt, s settings, seq int64) error {
		d, err := l.DomainDefineXML(domainXML(s.domType, fmt.Sprintf("load-%d-%d", pidTag, seq)))
		if err != nil {
			return err
		}
		return l.DomainUndefine(d)
	}},
	{name: "list-all", setup: populate, op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		_, _, err := l.ConnectListAllDomains(1, 0)
		return err
	}},
}

func workloadNames() []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w.name)
	}
	return names
}

// fixedName is the domain the lookup and dumpxml workloads read.
const fixedName = "load-fixed"

var pidTag = int64(0)
var seqCounter atomic.Int64

// populate defines s.domains domains (and the fixed one) before list-all.
func populate(l *libvirt.Libvirt, s settings) error {
	_, n, err := l.ConnectListAllDomains(0, 0)
	if err != nil {
		return err
	}
	for i := int(n); i < s.domains; i++ {
		if _, err := l.DomainDefineXML(domainXML(s.domType, fmt.Sprintf("load-pop-%05d", i))); err != nil {
			return fmt.Errorf("populate domain %d: %w", i, err)
		}
	}
	return nil
}

// domainXML is a small persistent guest of the daemon's type.
func domainXML(domType, name string) string {
	if domType == "test" {
		return fmt.Sprintf(`<domain type='test'><name>%s</name><memory>131072</memory>`+
			`<os><type>hvm</type></os></domain>`, name)
	}
	return fmt.Sprintf(`<domain type='xen'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>`+
		`<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`, name)
}
