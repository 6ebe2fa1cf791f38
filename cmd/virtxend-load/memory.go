package main

import (
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// idleRSSKB and idleAnonKB are the daemon's resident memory, all of it
// and its anonymous part (RssAnon: what is not the executable's and
// libraries' pages), when this run started, before it made any
// connection: its idle memory, if it was just started.
var idleRSSKB, idleAnonKB int64

// idleSettle is how long the idle memory is sampled, the lowest sample
// kept: a daemon just started may still be finishing its start in the
// background and giving back that garbage.
const idleSettle = 2 * time.Second

// sampleIdle sets idleRSSKB and idleAnonKB.
func sampleIdle(pid int) {
	if pid <= 0 {
		return
	}
	idleRSSKB, _ = daemonMemory(pid)
	idleAnonKB = daemonAnon(pid)
	for end := time.Now().Add(idleSettle); time.Now().Before(end); {
		time.Sleep(250 * time.Millisecond)
		if rss, _ := daemonMemory(pid); rss > 0 && rss < idleRSSKB {
			idleRSSKB, idleAnonKB = rss, daemonAnon(pid)
		}
	}
}

// memorySettle is how long the memory workload waits after defining the
// domains, taking the lowest of the samples it reads meanwhile: the
// garbage of the define calls is the collector's to take back, and not the
// domains' cost.
const memorySettle = 3 * time.Second

func init() {
	// First in the table, so that it runs first: the daemon's memory is
	// then what the domains hold, not what earlier workloads left.
	workloads = append([]workload{{name: "memory", measure: measureMemory}}, workloads...)
	defaultWorkloads = append([]string{"memory"}, defaultWorkloads...)
}

// measureMemory defines -domains domains and reports the daemon's resident
// memory when the run started (idle, for a daemon just started, as
// scripts/bench-compare starts them) and with the domains defined, and the
// difference per domain the daemon then has.
func measureMemory(ctl *libvirt.Libvirt, s settings) (result, error) {
	r := result{Workload: "memory", Conns: 1, IdleRSSKB: idleRSSKB, IdleAnonKB: idleAnonKB}
	if s.pid <= 0 {
		return r, nil
	}
	if err := populate(ctl, s); err != nil {
		return r, err
	}
	_, after, err := ctl.ConnectListAllDomains(0, 0)
	if err != nil {
		return r, err
	}
	r.Domains = int(after)
	r.DefinedRSSKB, _ = daemonMemory(s.pid)
	for end := time.Now().Add(memorySettle); time.Now().Before(end); {
		time.Sleep(250 * time.Millisecond)
		rss, _ := daemonMemory(s.pid)
		r.DefinedRSSKB = min(r.DefinedRSSKB, rss)
	}
	r.DaemonRSSKB, r.DaemonHWMKB = daemonMemory(s.pid)
	if after > 0 && r.IdleRSSKB > 0 {
		r.PerDomainB = float64(r.DefinedRSSKB-r.IdleRSSKB) * 1024 / float64(after)
	}
	return r, nil
}
