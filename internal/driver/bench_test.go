package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

// defineBenchGuest defines the benchmarks' guest: a disk, a NIC and VNC.
func defineBenchGuest(b *testing.B, drv *Driver) Domain {
	return define(b, drv, "bench", 1, `<devices>
  <disk type='file' device='disk'><source file='/var/lib/xen/bench.img'/><target dev='xvda' bus='xen'/></disk>
  <interface type='bridge'><source bridge='xenbr0'/><mac address='00:16:3e:00:00:01'/></interface>
  <graphics type='vnc' port='-1' autoport='yes'/>
</devices>`)
}

// BenchmarkGetXMLDesc is dumpxml of a running guest with a disk, a NIC and
// VNC, as virsh dumpxml asks for it.
func BenchmarkGetXMLDesc(b *testing.B) {
	e := newEnv(b)
	drv, _ := e.start()
	d := defineBenchGuest(b, drv)
	if _, err := drv.Create(ctx, d, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLSecure)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefineUndefine is virsh define then undefine of a small guest:
// two durable writes and removals with their fsyncs.
func BenchmarkDefineUndefine(b *testing.B) {
	e := newEnv(b)
	drv, _ := e.start()
	xml := domXML("bench", 1, "")
	b.ReportAllocs()
	for b.Loop() {
		d, err := drv.Define(ctx, xml, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := drv.Undefine(ctx, d, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateDestroy is virsh start then destroy of the benchmarks'
// guest, on the simulated host: the driver's share of a
// guest's start (its definitions copied, translated, the status file
// written and removed), whose backend work real Xen makes far larger.
func BenchmarkCreateDestroy(b *testing.B) {
	e := newEnv(b)
	drv, _ := e.start()
	d := defineBenchGuest(b, drv)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drv.Create(ctx, d, 0); err != nil {
			b.Fatal(err)
		}
		if err := drv.Destroy(ctx, d, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart10000 is the driver's start with 10,000 defined domains:
// what the daemon does before READY.
func BenchmarkStart10000(b *testing.B) { benchmarkStart(b, 10000, 0) }

// BenchmarkStart10000Running1000 is the start with 1,000 of them running
// on the simulated host, each reconnected.
func BenchmarkStart10000Running1000(b *testing.B) { benchmarkStart(b, 10000, 1000) }

func benchmarkStart(b *testing.B, defined, running int) {
	e := newEnv(b)
	e.cfg.Sim.MemoryMiB, e.cfg.Sim.CPUs = 1<<20, 64
	drv, h := e.start()
	define(b, drv, "bench", 1, "")
	drv.Close()
	h.Close()
	writeCopies(b, e, "bench", defined)
	drv, h = e.start()
	for i := range running {
		if _, err := drv.Create(ctx, Domain{UUID: copyUUID(i * (defined / running))}, 0); err != nil {
			b.Fatal(err)
		}
	}
	drv.Close()
	h.Close()
	b.ReportAllocs()
	for b.Loop() {
		h := e.sim()
		drv, err := New(e.cfg, e.root, h, nil, Options{WatchInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		drv.Close()
		h.Close()
	}
}

// writeCopies writes n copies of name's config under other names and
// uuids, directly: defining them through the driver costs two fsyncs each.
func writeCopies(b *testing.B, e *env, name string, n int) {
	b.Helper()
	text, err := os.ReadFile(filepath.Join(e.root.DomainConfigDir(), name+".xml"))
	if err != nil {
		b.Fatal(err)
	}
	uuid := uuidOf(1).String()
	for i := range n {
		copyName := fmt.Sprintf("copy-%05d", i)
		s := strings.ReplaceAll(string(text), "<name>"+name+"</name>", "<name>"+copyName+"</name>")
		s = strings.ReplaceAll(s, "virsh edit "+name, "virsh edit "+copyName)
		s = strings.ReplaceAll(s, uuid, copyUUID(i).String())
		if err := os.WriteFile(filepath.Join(e.root.DomainConfigDir(), copyName+".xml"), []byte(s), 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

func copyUUID(i int) backend.UUID {
	u, _ := backend.ParseUUID(fmt.Sprintf("%08x-0000-4000-8000-000000000000", i))
	return u
}

// BenchmarkHeldPerDomain reports the heap the driver holds per defined
// domain, with 10,000 defined and loaded at start (heapB/domain).
func BenchmarkHeldPerDomain(b *testing.B) {
	const n = 10000
	e := newEnv(b)
	drv, h := e.start()
	define(b, drv, "bench", 1, "")
	drv.Close()
	h.Close()
	writeCopies(b, e, "bench", n)
	for b.Loop() {
		before := heapInUse()
		h := e.sim()
		drv, err := New(e.cfg, e.root, h, nil, Options{WatchInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		drv.packLoaded() // as the daemon does after READY
		b.ReportMetric(float64(heapInUse()-before)/n, "heapB/domain")
		runtime.KeepAlive(drv)
		drv.Close()
		h.Close()
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkGetXMLDescInactive is dumpxml of an inactive guest, as virsh
// dumpxml asks for it: its saved text, inflated.
func BenchmarkGetXMLDescInactive(b *testing.B) {
	e := newEnv(b)
	drv, _ := e.start()
	d := define(b, drv, "bench", 1, `<devices>
  <disk type='file' device='disk'><source file='/var/lib/xen/bench.img'/><target dev='xvda' bus='xen'/></disk>
  <interface type='bridge'><source bridge='xenbr0'/><mac address='00:16:3e:00:00:01'/></interface>
</devices>`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drv.GetXMLDesc(ctx, d, 0); err != nil {
			b.Fatal(err)
		}
	}
}
