package main

import (
	"flag"
	"fmt"
	"regexp"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"
)

// The statistics workloads: one poll of every running guest's figures, as
// virt-manager polls them each second, in two ways. "domstats" is the one
// bulk call (CONNECT_GET_ALL_DOMAIN_STATS with virt-manager's groups:
// state, CPU, balloon, vCPUs, interfaces, block); "poll-per-guest" is what
// virt-manager falls back to without it, per running guest: its info,
// memory statistics, and its disk's and interface's counters, four calls.
// domstats-state asks for the state group alone. All work on -domains guests with a disk and an interface, -running of
// them started (every domain the daemon has counts for domstats, as
// virt-manager asks for all).

var running = flag.Int("running", 1000, "guests started among -domains for the domstats and poll-per-guest workloads")

// virtManagerGroups are the stat groups virt-manager asks for with every
// poll enabled.
const virtManagerGroups = uint32(libvirt.DomainStatsState | libvirt.DomainStatsCPUTotal | libvirt.DomainStatsVCPU |
	libvirt.DomainStatsBalloon | libvirt.DomainStatsBlock | libvirt.DomainStatsInterface)

func init() {
	workloads = append(workloads,
		workload{name: "domstats", setup: populateRunning, op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
			_, err := l.ConnectGetAllDomainStats(nil, virtManagerGroups, 0)
			return err
		}},
		workload{name: "poll-per-guest", setup: populateRunning, op: pollPerGuest},
		// The state group alone: all libvirtd's test driver reports of the
		// six, so the like-for-like comparison with it.
		workload{name: "domstats-state", setup: populateRunning, op: func(l *libvirt.Libvirt, _ settings, _ int64) error {
			_, err := l.ConnectGetAllDomainStats(nil, uint32(libvirt.DomainStatsState), 0)
			return err
		}},
	)
}

// polled is a running guest and the devices virt-manager reads.
type polled struct {
	dom       libvirt.Domain
	disk, nic string
}

var (
	pollMu  sync.Mutex
	pollSet []polled
)

var (
	diskTarget = regexp.MustCompile(`<disk type=[^>]*>(?s:.*?)<target dev='([^']+)'`)
	nicTarget  = regexp.MustCompile(`<interface type=[^>]*>(?s:.*?)<target dev='([^']+)'`)
)

// populateRunning defines -domains guests with devices and starts -running
// of them, then records every running domain's devices for the per-guest
// poll.
func populateRunning(l *libvirt.Libvirt, s settings) error {
	for i := 0; i < s.domains; i++ {
		name := fmt.Sprintf("load-stat-%05d", i)
		d, err := l.DomainLookupByName(name)
		if err != nil {
			if d, err = l.DomainDefineXML(statsDomainXML(s.domType, name)); err != nil {
				return fmt.Errorf("define %s: %w", name, err)
			}
		}
		if i >= *running {
			continue
		}
		if state, _, err := l.DomainGetState(d, 0); err == nil && state == int32(libvirt.DomainRunning) {
			continue
		}
		if err := l.DomainCreate(d); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
	}
	doms, _, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive)
	if err != nil {
		return err
	}
	set := make([]polled, 0, len(doms))
	for _, d := range doms {
		x, err := l.DomainGetXMLDesc(d, 0)
		if err != nil {
			return err
		}
		p := polled{dom: d}
		if m := diskTarget.FindStringSubmatch(x); m != nil {
			p.disk = m[1]
		}
		if m := nicTarget.FindStringSubmatch(x); m != nil {
			p.nic = m[1]
		}
		set = append(set, p)
	}
	pollMu.Lock()
	pollSet = set
	pollMu.Unlock()
	return nil
}

// pollPerGuest is one poll of every running guest with the per-guest calls.
func pollPerGuest(l *libvirt.Libvirt, _ settings, _ int64) error {
	pollMu.Lock()
	set := pollSet
	pollMu.Unlock()
	for _, p := range set {
		if _, _, _, _, _, err := l.DomainGetInfo(p.dom); err != nil {
			return err
		}
		if _, err := l.DomainMemoryStats(p.dom, uint32(libvirt.DomainMemoryStatNr), 0); err != nil {
			return err
		}
		if p.disk != "" {
			if _, _, _, _, _, err := l.DomainBlockStats(p.dom, p.disk); err != nil {
				return fmt.Errorf("block stats of %s %s: %w", p.dom.Name, p.disk, err)
			}
		}
		if p.nic != "" {
			if _, _, _, _, _, _, _, _, err := l.DomainInterfaceStats(p.dom, p.nic); err != nil {
				return fmt.Errorf("interface stats of %s %s: %w", p.dom.Name, p.nic, err)
			}
		}
	}
	return nil
}

// statsDomainXML is a guest with a disk and an interface: for Xen a raw
// disk on blkback and a NIC on a bridge; for the test driver the same
// devices in its terms.
func statsDomainXML(domType, name string) string {
	if domType == "test" {
		return fmt.Sprintf(`<domain type='test'><name>%s</name><memory>131072</memory><os><type>hvm</type></os>`+
			`<devices><disk type='file' device='disk'><source file='/guest.img'/><target dev='vda'/></disk>`+
			`<interface type='network'><source network='default'/><target dev='testnet0'/></interface></devices></domain>`, name)
	}
	return fmt.Sprintf(`<domain type='xen'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>`+
		`<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>`+
		`<devices><disk type='block' device='disk'><driver name='phy'/><source dev='/dev/null'/><target dev='xvda'/></disk>`+
		`<interface type='bridge'><source bridge='xenbr0'/></interface></devices></domain>`, name)
}
