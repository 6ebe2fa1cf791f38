package driver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
)

// FuzzConfigFile is a persistent config as the daemon finds it at start
// (hand-edited, or written by an older version): it loads like libvirt's
// (a file that parses but no longer validates is still taken), and
// nothing the daemon then does with the domain panics: every view of it,
// its details, a start on the simulated host and a destroy.
func FuzzConfigFile(f *testing.F) {
	f.Add(domXML("g", 1, ""))
	f.Add(domXML("g", 2, `<devices><disk type='file' device='disk'><source file='/d.img'/><target dev='xvda'/></disk>`+
		`<interface type='bridge'><source bridge='br0'/></interface><console type='pty'/></devices>`))
	f.Add(`<domain type='xen'><name>g</name><uuid>01345678-1234-1234-1234-123456789abc</uuid></domain>`)
	f.Add(`<domain type='xen'><name>g</name><uuid>01345678-1234-1234-1234-123456789abc</uuid><memory>0</memory>` +
		`<vcpu>0</vcpu><os><type>hvm</type></os><cpu mode='host-passthrough'/><cputune><shares>0</shares></cputune></domain>`)
	files, _ := filepath.Glob(filepath.Join("..", "domxml", "testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8192 {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		probe := filepath.Join(t.TempDir(), "probe.xml")
		if err := os.WriteFile(probe, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		def, err := readConfig(probe)
		if err != nil || def.Name == "" || strings.ContainsAny(def.Name, "/\x00") || def.Name == "." || def.Name == ".." ||
			len(def.Name) > 200 {
			return
		}
		e := newEnv(t)
		dir := e.root.DomainConfigDir()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, def.Name+".xml"), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		drv, _ := e.start()
		dom, err := drv.LookupByName(ctx, def.Name)
		if err != nil {
			return // not loaded (its uuid, say): logged, as libvirt does
		}
		for _, flags := range []uint32{0, uint32(domxml.FormatInactive), uint32(domxml.FormatSecure), uint32(domxml.FormatMigratable)} {
			drv.GetXMLDesc(ctx, dom, flags)
		}
		drv.GetInfo(ctx, dom)
		drv.GetState(ctx, dom, 0)
		drv.GetOSType(ctx, dom)
		drv.GetMaxMemory(ctx, dom)
		drv.GetMaxVcpus(ctx, dom)
		for _, flags := range []uint32{uint32(libvirt.DomainAffectConfig), uint32(libvirt.DomainAffectConfig) | uint32(libvirt.DomainVCPUMaximum)} {
			drv.GetVcpusFlags(ctx, dom, flags)
		}
		for _, typ := range []int32{int32(libvirt.DomainMetadataTitle), int32(libvirt.DomainMetadataDescription)} {
			drv.GetMetadata(ctx, dom, typ, nil, uint32(libvirt.DomainAffectConfig))
		}
		drv.GetSchedulerType(ctx, dom)
		drv.GetNumaParameters(ctx, dom, 2, uint32(libvirt.DomainAffectConfig))
		drv.GetVcpuPinInfo(ctx, dom, 4, 1, uint32(libvirt.DomainAffectConfig))
		drv.ListAll(ctx, 0)
		if _, err := drv.Create(ctx, dom, 0); err != nil {
			return
		}
		drv.GetXMLDesc(ctx, dom, 0)
		drv.GetInfo(ctx, dom)
		drv.GetVcpus(ctx, dom, 4, 1)
		if err := drv.Destroy(ctx, dom, 0); err != nil {
			t.Fatalf("destroy of a started domain: %v", err)
		}
	})
}
