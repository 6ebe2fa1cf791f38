package main

import (
	"fmt"
	"path/filepath"
	"sync/atomic"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/store"
)

// workload is one kind of call sequence; op runs it once on a connection.
type workload struct {
	name  string
	setup func(l *libvirt.Libvirt, s settings) error // once, before the run
	op    func(l *libvirt.Libvirt, s settings, seq int64) error
	// measure, instead of setup and op, is a workload that is not a timed
	// loop of calls: it takes its own figures on the control connection.
	measure func(ctl *libvirt.Libvirt, s settings) (result, error)
}

var workloads = []workload{
	{name: "version", op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		_, err := l.ConnectGetLibVersion()
		return err
	}},
	{name: "lookup", setup: defineFixed, op: func(l *libvirt.Libvirt, s settings, _ int64) error {
		_, err := l.DomainLookupByName(s.target())
		return err
	}},
	{name: "dumpxml", setup: defineFixed, op: func(l *libvirt.Libvirt, s settings, _ int64) error {
		d, err := l.DomainLookupByName(s.target())
		if err != nil {
			return err
		}
		_, err = l.DomainGetXMLDesc(d, 0)
		return err
	}},
	// cold-dumpxml reads a different domain each call, cycling through the
	// -domains that list-all defines, so that a daemon's per-domain cache
	// of formatted XML serves none of the calls of the first round.
	{name: "cold-dumpxml", setup: populate, op: func(l *libvirt.Libvirt, s settings, seq int64) error {
		d, err := l.DomainLookupByName(popName(int(seq % int64(max(s.domains, 1)))))
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
	// The storage driver's calls: through virtxend they are passed on to
	// libvirt's daemon, so against that daemon directly they measure what
	// the forwarding costs.
	{name: "pool-list", setup: populateVolumes, op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		_, _, err := l.ConnectListAllStoragePools(1, 0)
		return err
	}},
	{name: "vol-list", setup: populateVolumes, op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
		p, err := l.StoragePoolLookupByName(poolName)
		if err != nil {
			return err
		}
		_, _, err = l.StoragePoolListAllVolumes(p, 1, 0)
		return err
	}},
}

// durableLimit is define-undefine's writes made directly in -durable-dir
// (a directory on the daemon's filesystem), as fast as the disk takes
// them: a config written atomically (data and directory fsynced), then
// removed (directory fsynced), as internal/store does for the daemon. Its
// rate is the most any durable define+undefine can reach on this disk.
var durableLimit = workload{name: "durable-limit", op: func(_ *libvirt.Libvirt, s settings, seq int64) error {
	path := filepath.Join(s.durableDir, fmt.Sprintf("load-%d-%d.xml", pidTag, seq))
	if err := store.WriteFile(path, []byte(domainXML(s.domType, filepath.Base(path))), 0o600); err != nil {
		return err
	}
	return store.Remove(path)
}}

// defaultWorkloads run when -workloads is not given: the hypervisor's.
var defaultWorkloads = []string{"version", "lookup", "dumpxml", "define-undefine", "list-all", "cold-dumpxml"}

func workloadNames() []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w.name)
	}
	return names
}

// fixedName is the domain the lookup and dumpxml workloads read, unless
// -domain names another.
const fixedName = "load-fixed"

// target is the domain the lookup and dumpxml workloads read.
func (s settings) target() string {
	if s.domain != "" {
		return s.domain
	}
	return fixedName
}

var pidTag = int64(0)
var seqCounter atomic.Int64

// defineFixed defines the domain the lookup and dumpxml workloads read,
// or, with -domain, makes sure that one exists.
func defineFixed(l *libvirt.Libvirt, s settings) error {
	if _, err := l.DomainLookupByName(s.target()); err == nil {
		return nil
	} else if s.domain != "" {
		return fmt.Errorf("domain %s: %w", s.domain, err)
	}
	_, err := l.DomainDefineXML(domainXML(s.domType, fixedName))
	return err
}

// poolName is the directory pool the storage workloads read.
const poolName = "load-pool"

// populateVolumes starts poolName (in the storage daemon's directory
// /var/lib/libvirt/load-pool) and fills it with s.volumes small volumes.
func populateVolumes(l *libvirt.Libvirt, s settings) error {
	p, err := l.StoragePoolLookupByName(poolName)
	if err != nil {
		xml := "<pool type='dir'><name>" + poolName + "</name><target><path>/var/lib/libvirt/" + poolName +
			"</path></target></pool>"
		if p, err = l.StoragePoolDefineXML(xml, 0); err != nil {
			return err
		}
		if err := l.StoragePoolBuild(p, 0); err != nil {
			return err
		}
	}
	if active, _ := l.StoragePoolIsActive(p); active == 0 {
		if err := l.StoragePoolCreate(p, 0); err != nil {
			return err
		}
	}
	n, err := l.StoragePoolNumOfVolumes(p)
	if err != nil {
		return err
	}
	for i := int(n); i < s.volumes; i++ {
		xml := fmt.Sprintf("<volume><name>v%05d.img</name><capacity>1024</capacity></volume>", i)
		if _, err := l.StorageVolCreateXML(p, xml, 0); err != nil {
			return fmt.Errorf("populate volume %d: %w", i, err)
		}
	}
	return nil
}

// populate defines s.domains domains, load-pop-00000 and on, those of
// them not defined yet (list-all, cold-dumpxml and memory share them).
func populate(l *libvirt.Libvirt, s settings) error {
	for i := range s.domains {
		if _, err := l.DomainLookupByName(popName(i)); err == nil {
			continue
		}
		if _, err := l.DomainDefineXML(domainXML(s.domType, popName(i))); err != nil {
			return fmt.Errorf("populate domain %d: %w", i, err)
		}
	}
	return nil
}

// popName is the name of the i-th domain populate defines.
func popName(i int) string { return fmt.Sprintf("load-pop-%05d", i) }

// domainXML is a small persistent guest of the daemon's type.
func domainXML(domType, name string) string {
	if domType == "test" {
		return fmt.Sprintf(`<domain type='test'><name>%s</name><memory>131072</memory>`+
			`<os><type>hvm</type></os></domain>`, name)
	}
	return fmt.Sprintf(`<domain type='xen'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>`+
		`<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`, name)
}
