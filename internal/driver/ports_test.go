package driver

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func hvmGraphicsXML(name string, n byte, graphics string) string {
	return fmt.Sprintf(`<domain type='xen'>
  <name>%s</name>
  <uuid>%02x345678-1234-1234-1234-123456789abc</uuid>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>%s</devices>
</domain>`, name, n, graphics)
}

var graphicsPortRE = regexp.MustCompile(`<graphics type='(\w+)' port='(-?\d+)'`)

// graphicsPorts lists "type:port" for each graphics device in the XML.
func graphicsPorts(t *testing.T, drv *Driver, n byte, flags uint32) string {
	t.Helper()
	x, err := drv.GetXMLDesc(ctx, domOf(n), flags)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, m := range graphicsPortRE.FindAllStringSubmatch(x, -1) {
		out += m[1] + ":" + m[2] + " "
	}
	return out
}

// TestGraphicsPorts: automatic VNC ports (and SPICE ports of HVM guests)
// are chosen at start from 5900 up, shown in the live XML only, returned
// when the guest stops and held again by a restarted driver.
func TestGraphicsPorts(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	vnc := `<graphics type='vnc' port='-1'/>`
	for _, g := range []struct {
		n        byte
		graphics string
	}{
		{1, vnc}, {2, vnc + `<graphics type='spice' autoport='yes'/>`}, {3, `<graphics type='vnc' port='5990' autoport='no'/>`},
	} {
		if _, err := drv.Define(ctx, hvmGraphicsXML(fmt.Sprintf("g%d", g.n), g.n, g.graphics), 0); err != nil {
			t.Fatal(err)
		}
	}
	define(t, drv, "pv", 4, `<devices>`+vnc+`</devices>`)
	start := func(drv *Driver, n byte) {
		t.Helper()
		if _, err := drv.Create(ctx, domOf(n), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []byte{1, 2, 3} {
		start(drv, n)
	}
	want := map[byte]string{1: "vnc:5900 ", 2: "vnc:5901 spice:5902 ", 3: "vnc:5990 "}
	for n, w := range want {
		if got := graphicsPorts(t, drv, n, 0); got != w {
			t.Errorf("g%d live ports %q, want %q", n, got, w)
		}
	}
	if got := graphicsPorts(t, drv, 1, 2); got != "vnc:-1 " { // VIR_DOMAIN_XML_INACTIVE
		t.Errorf("g1 inactive ports %q", got)
	}
	if err := drv.Destroy(ctx, domOf(1), 0); err != nil {
		t.Fatal(err)
	}
	if got := graphicsPorts(t, drv, 1, 0); got != "vnc:-1 " {
		t.Errorf("g1 after destroy %q", got)
	}
	start(drv, 4) // the PV guest takes the freed port
	if got := graphicsPorts(t, drv, 4, 0); got != "vnc:5900 " {
		t.Errorf("pv ports %q", got)
	}
	drv.Close()

	drv2, _ := e.start()
	start(drv2, 1) // 5900-5902 are held by the reconnected guests
	if got := graphicsPorts(t, drv2, 1, 0); got != "vnc:5903 " {
		t.Errorf("g1 after a driver restart %q", got)
	}
	if got := graphicsPorts(t, drv2, 2, 0); got != "vnc:5901 spice:5902 " {
		t.Errorf("g2 after a driver restart %q", got)
	}
}

// TestPortProbe: where guests' display servers run on this machine, a
// port another process listens on is passed over, as virPortAllocator
// does; the simulated host's allocator only knows its own guests' ports.
func TestPortProbe(t *testing.T) {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", graphicsPortMin))
	if err != nil {
		t.Skipf("port %d is not free here: %v", graphicsPortMin, err)
	}
	defer l.Close()
	local := portAllocator{probe: true}
	if p, err := local.acquire(); err != nil || p == graphicsPortMin {
		t.Errorf("probing allocator gave %d (%v) while another process listens there", p, err)
	}
	var simulated portAllocator
	if p, err := simulated.acquire(); err != nil || p != graphicsPortMin {
		t.Errorf("allocator without probe gave %d (%v), want %d", p, err, graphicsPortMin)
	}
}

// TestDisplaysListenOnLoopback: a VNC or SPICE display whose listen names
// no address gets 127.0.0.1 in the live XML, where libxl listens, as
// libvirt's libxlMakeVfb writes it; the persistent XML keeps none.
func TestDisplaysListenOnLoopback(t *testing.T) {
	drv, _ := newEnv(t).start()
	g := `<graphics type='vnc' port='-1' autoport='yes'/><graphics type='spice' port='-1' autoport='yes'/>`
	if _, err := drv.Define(ctx, hvmGraphicsXML("lo", 1, g), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := drv.Create(ctx, domOf(1), 0); err != nil {
		t.Fatal(err)
	}
	live, _ := drv.GetXMLDesc(ctx, domOf(1), 0)
	if n := strings.Count(live, "listen='127.0.0.1'>"); n != 2 ||
		strings.Count(live, "<listen type='address' address='127.0.0.1'/>") != 2 {
		t.Errorf("live XML:\n%s", live)
	}
	inactive, _ := drv.GetXMLDesc(ctx, domOf(1), uint32(libvirt.DomainXMLInactive))
	if strings.Contains(inactive, "127.0.0.1") {
		t.Errorf("persistent XML gained the address:\n%s", inactive)
	}
}
