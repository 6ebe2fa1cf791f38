package xlcfg

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/fixtures"
)

// randomCfg builds a random but valid xl or xm cfg from the settings the
// converter knows.
func randomCfg(r *rand.Rand, f Format) string {
	var b strings.Builder
	kind := []string{"pv", "hvm", "pvh"}[r.Intn(3)]
	if f == XM && kind == "pvh" {
		kind = "pv"
	}
	mem := 128 + r.Intn(4096)
	fmt.Fprintf(&b, "name = \"g%d\"\nuuid = \"%08x-1111-2222-3333-%012x\"\n", r.Intn(1000), r.Uint32(), r.Int63n(1<<48))
	fmt.Fprintf(&b, "memory = %d\nmaxmem = %d\nvcpus = %d\n", mem, mem+r.Intn(1024), 1+r.Intn(4))
	if r.Intn(2) == 0 {
		fmt.Fprintf(&b, "maxvcpus = %d\n", 4+r.Intn(4))
	}
	if r.Intn(3) == 0 {
		b.WriteString("cpus = \"0-3,^2,6\"\n")
	}
	acts := []string{"destroy", "restart", "preserve", "rename-restart", "coredump-destroy"}
	fmt.Fprintf(&b, "on_poweroff = \"%s\"\non_crash = \"%s\"\nlocaltime = %d\n",
		acts[r.Intn(len(acts))], acts[r.Intn(len(acts))], r.Intn(2))
	switch {
	case kind == "hvm":
		randomHVM(r, &b, f)
	case f == XL:
		fmt.Fprintf(&b, "type = \"%s\"\n", kind)
		randomPV(r, &b)
	default:
		randomPV(r, &b)
	}
	randomVifs(r, &b)
	randomDisks(r, &b, f)
	if f == XL && r.Intn(3) == 0 {
		b.WriteString("channel = [ \"connection=socket,path=/run/ch.sock,name=org.qemu.guest_agent.0\", \"connection=pty,name=a.b\" ]\n")
	}
	if f == XL && r.Intn(3) == 0 {
		fmt.Fprintf(&b, "usbctrl = [ \"type=qusb,version=%d,ports=%x\" ]\nusbdev = [ \"hostbus=%x,hostaddr=%x\" ]\n",
			1+r.Intn(2), 1+r.Intn(15), 1+r.Intn(5), 1+r.Intn(20))
	}
	if f == XL && r.Intn(3) == 0 {
		fmt.Fprintf(&b, "max_event_channels = %d\nmax_grant_frames = %d\n", 1+r.Intn(2048), 1+r.Intn(64))
	}
	if r.Intn(3) == 0 {
		b.WriteString("pci = [ \"0000:01:1a.1\", \"02:00.0,permissive=1\" ]\n")
	}
	return b.String()
}

func randomHVM(r *rand.Rand, b *strings.Builder, f Format) {
	b.WriteString("builder = \"hvm\"\n")
	if f == XM {
		b.WriteString("kernel = \"/usr/lib/xen/boot/hvmloader\"\n")
	}
	fmt.Fprintf(b, "pae = %d\nacpi = %d\napic = %d\nhap = %d\nviridian = %d\nrtc_timeoffset = %d\n",
		r.Intn(2), r.Intn(2), r.Intn(2), r.Intn(2), r.Intn(2), r.Intn(7200))
	fmt.Fprintf(b, "boot = \"%s\"\n", []string{"c", "d", "dc", "nca", "cdn"}[r.Intn(5)])
	if r.Intn(2) == 0 {
		fmt.Fprintf(b, "hpet = %d\n", r.Intn(2))
	}
	if r.Intn(2) == 0 {
		fmt.Fprintf(b, "tsc_mode = \"%s\"\n", []string{"native", "always_emulate", "native_paravirt", "default"}[r.Intn(4)])
	}
	switch r.Intn(3) {
	case 0:
		fmt.Fprintf(b, "vnc = 1\nvncunused = 0\nvncdisplay = %d\nvnclisten = \"0.0.0.0\"\nvncpasswd = \"pw\"\n", r.Intn(50))
	case 1:
		b.WriteString("sdl = 1\ndisplay = \":0\"\n")
	}
	serials := []string{"pty", "null", "stdio", "file:/tmp/s.log", "tcp:127.0.0.1:7777", "telnet::9999,server,nowait", "unix:/tmp/s.sock,server,nowait", "/dev/ttyS0"}
	if f == XL && r.Intn(2) == 0 {
		fmt.Fprintf(b, "serial = [ \"%s\", \"none\", \"%s\" ]\n", serials[r.Intn(len(serials))], serials[r.Intn(len(serials))])
	} else {
		fmt.Fprintf(b, "serial = \"%s\"\n", serials[r.Intn(len(serials))])
	}
	if r.Intn(3) == 0 {
		b.WriteString("soundhw = \"sb16,es1370\"\nusbdevice = \"tablet\"\n")
	}
	if f == XL && r.Intn(3) == 0 {
		b.WriteString("nestedhvm = 0\n")
	} else if f == XL && r.Intn(3) == 0 {
		b.WriteString("cpuid = \"host,tm=0,sse3=1,page1gb=x\"\n")
	}
}

func randomPV(r *rand.Rand, b *strings.Builder) {
	if r.Intn(2) == 0 {
		b.WriteString("bootloader = \"/usr/bin/pygrub\"\n")
		return
	}
	b.WriteString("kernel = \"/boot/vmlinuz\"\nramdisk = \"/boot/initrd\"\nextra = \"console=hvc0\"\nroot = \"/dev/xvda1\"\n")
	if r.Intn(2) == 0 {
		b.WriteString("vfb = [ \"type=vnc,vncunused=1,vnclisten=127.0.0.1,keymap=de\" ]\n")
	}
}

func randomVifs(r *rand.Rand, b *strings.Builder) {
	extras := []string{"", ",model=e1000", ",rate=10MB/s", ",ip=10.0.0.1 2000::1", ",vifname=vif9", ",type=vif"}
	n := r.Intn(3)
	var vifs []string
	for i := 0; i < n; i++ {
		br := []string{"bridge=xenbr0,script=vif-bridge", "bridge=ovsbr0.42", "bridge=ovsbr0:10:20", "script=vif-route"}[r.Intn(4)]
		vifs = append(vifs, fmt.Sprintf("\"mac=00:16:3e:00:00:%02x,%s%s\"", i, br, extras[r.Intn(len(extras))]))
	}
	if n > 0 {
		b.WriteString("vif = [ " + strings.Join(vifs, ", ") + " ]\n")
	}
}

func randomDisks(r *rand.Rand, b *strings.Builder, f Format) {
	xl := []string{"format=raw,vdev=xvda,access=rw,backendtype=phy,target=/dev/vg/a",
		"/var/lib/img/b.qcow2,qcow2,xvdb,rw", "format=vhd,vdev=xvdc,access=ro,target=/img/c.vhd",
		"/img/d.iso,raw,hdc,ro,devtype=cdrom", ",,hdd,ro,devtype=cdrom", "vdev=xvde,access=rw,backendtype=tap,target=/img/e"}
	xm := []string{"phy:/dev/vg/a,xvda,w", "file:/img/b.img,xvdb,r", "tap:aio:/img/c.img,xvdc,w",
		"tap2:qcow2:/img/d.qcow2,xvdd,w!", "file:/img/e.iso,hdc:cdrom,r", ",hdd:cdrom,r"}
	pool := xl
	if f == XM {
		pool = xm
	}
	var ds []string
	used := map[int]bool{}
	for i := r.Intn(4); i > 0; i-- {
		k := r.Intn(len(pool))
		if !used[k] {
			used[k] = true
			ds = append(ds, `"`+pool[k]+`"`)
		}
	}
	if len(ds) > 0 {
		b.WriteString("disk = [ " + strings.Join(ds, ", ") + " ]\n")
	}
}

// TestRoundTripProperty: for random cfgs, one conversion to XML and back
// reaches a fixed point: XML → cfg → XML is then stable and the cfg
// written is written again. (The first cycle may normalise, as libvirt
// does: PAE on for x86_64 HVM guests, a default vif script.)
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 400; i++ {
		f := []Format{XL, XM}[i%2]
		cfg := randomCfg(r, f)
		x1, err := ToXML([]byte(cfg), f, Options{Secure: true})
		if err != nil {
			t.Fatalf("case %d: ToXML: %v\n%s", i, err, cfg)
		}
		c2 := mustNative(t, i, x1.XML, f)
		x2, err := ToXML(c2, f, Options{Secure: true})
		if err != nil {
			t.Fatalf("case %d: ToXML again: %v\n%s", i, err, c2)
		}
		c3 := mustNative(t, i, x2.XML, f)
		if string(c3) != string(c2) {
			t.Fatalf("case %d (%s): cfg not a fixed point:\n%s\ncfg:\n%s", i, f, fixtures.LineDiff(string(c2), string(c3)), cfg)
		}
		x3, err := ToXML(c3, f, Options{Secure: true})
		if err != nil || x3.XML != x2.XML {
			t.Fatalf("case %d (%s): XML not stable (%v):\n%s", i, f, err, fixtures.LineDiff(x2.XML, x3.XML))
		}
	}
}

func mustNative(t *testing.T, i int, xml string, f Format) []byte {
	t.Helper()
	b, err := ToNative(xml, f)
	if err != nil {
		t.Fatalf("case %d: ToNative: %v\n%s", i, err, xml)
	}
	return b
}

// TestRoundTripFixtures: every fixture XML, written as cfg and read
// back, gives the XML libvirt formats for it.
func TestRoundTripFixtures(t *testing.T) {
	dir := fixtures.Dir(t)
	for _, sub := range []struct {
		dir string
		f   Format
	}{{"xlconfigdata", XL}, {"xmconfigdata", XM}} {
		files, _ := filepath.Glob(filepath.Join(dir, sub.dir, "test-*.xml"))
		for _, p := range files {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			d, err := domxml.Parse(string(raw))
			if err != nil {
				continue
			}
			want, _ := domxml.FormatFlags(d, domxml.FormatInactive|domxml.FormatSecure)
			cfg, err := ToNative(string(raw), sub.f)
			if err != nil {
				continue // e.g. an xm definition xm cannot express
			}
			got, err := ToXML(cfg, sub.f, Options{Secure: true})
			if err != nil {
				t.Errorf("%s: reading back: %v\n%s", filepath.Base(p), err, cfg)
				continue
			}
			if got.XML != want && !roundTripLossy[filepath.Base(p)] {
				t.Errorf("%s (%s): round trip differs:\n%s", filepath.Base(p), sub.f, fixtures.LineDiff(want, got.XML))
			}
		}
	}
}

// roundTripLossy are fixtures that are input only and not libvirt's
// formatted output: the cfg carries the completed distance matrix
// and the loader's format, so reading it back says more than they did.
var roundTripLossy = map[string]bool{
	"test-fullvirt-vnuma-autocomplete.xml": true,
	"test-fullvirt-vnuma-nodistances.xml":  true,
}

// Strings are quoted as virConfSaveValue quotes them, and read back.
func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`say "hi"`, `'say "hi"'`},
		{`it's`, `"it's"`},
		{`both " and '`, `"""both " and '"""`},
		{"two\nlines", "\"\"\"two\nlines\"\"\""},
		{"a \"quote\"\nand a line", "\"\"\"a \"quote\"\nand a line\"\"\""},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
		cfg := []byte("name = " + quote(tc.in) + "\n")
		r, err := ToXML(cfg, XL, Options{})
		if err != nil {
			t.Errorf("%q does not read back: %v", cfg, err)
			continue
		}
		if d, err := domxml.Parse(r.XML); err != nil || d.Name != tc.in {
			t.Errorf("%q read back as\n%s(%v)", cfg, r.XML, err)
		}
	}
}
