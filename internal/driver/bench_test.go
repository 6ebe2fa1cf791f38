package driver

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkGetXMLDesc is dumpxml of a running guest with a disk, a NIC and
// VNC, as virsh dumpxml asks for it.
func BenchmarkGetXMLDesc(b *testing.B) {
	e := newEnv(b)
	drv, _ := e.start()
	d := define(b, drv, "bench", 1, `<devices>
  <disk type='file' device='disk'><source file='/var/lib/xen/bench.img'/><target dev='xvda' bus='xen'/></disk>
  <interface type='bridge'><source bridge='xenbr0'/><mac address='00:16:3e:00:00:01'/></interface>
  <graphics type='vnc' port='-1' autoport='yes'/>
</devices>`)
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
