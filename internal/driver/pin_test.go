package driver

import (
	"slices"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

const (
	affectLive   = uint32(libvirt.DomainAffectLive)
	affectConfig = uint32(libvirt.DomainAffectConfig)
)

func TestGetVcpus(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "v", 1, "")
	_, _, err := drv.GetVcpus(ctx, d, 1, 1)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	if _, err := drv.Create(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	// Two vCPUs, one online; asked for three, as libvirt the answer has
	// three entries, the third all zero.
	info, maps, err := drv.GetVcpus(ctx, d, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 3 || len(maps) != 6 {
		t.Fatalf("%d infos, %d map bytes", len(info), len(maps))
	}
	if info[0].Number != 0 || info[0].State != 1 || info[0].CPU < 0 || info[1].Number != 1 || info[1].State != 0 || info[2] != (VcpuInfo{}) {
		t.Fatalf("info %+v", info)
	}
	// sim_cpus 4: every vCPU may run on CPUs 0-3.
	if !slices.Equal(maps, []byte{0x0f, 0, 0x0f, 0, 0, 0}) {
		t.Fatalf("maps % x", maps)
	}
	if _, _, err := drv.GetVcpus(ctx, Domain{UUID: uuidOf(9), Name: "x"}, 1, 1); !virerr.Is(err, libvirt.ErrNoDomain) {
		t.Fatalf("no domain: %v", err)
	}
}

func TestPinVcpuLiveAndConfig(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	d := define(t, drv, "p", 1, "")
	// Inactive: CURRENT is CONFIG; LIVE is refused.
	err := drv.PinVcpuFlags(ctx, d, 0, []byte{0x02}, affectLive)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	err = drv.PinVcpuFlags(ctx, d, 1, []byte{0x02}, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: vcpu '1' is not active")
	err = drv.PinVcpuFlags(ctx, d, 0, []byte{0}, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: Empty cpu list for pinning")
	err = drv.PinVcpuFlags(ctx, d, 0, []byte{1}, 4)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlDomainPinVcpuFlags")
	if err := drv.PinVcpuFlags(ctx, d, 0, []byte{0x06}, 0); err != nil {
		t.Fatal(err)
	}
	x, _ := drv.GetXMLDesc(ctx, d, 0)
	if !strings.Contains(x, "<vcpupin vcpu='0' cpuset='1-2'/>") {
		t.Fatalf("config pin not in XML:\n%s", x)
	}
	maps, n, err := drv.GetVcpuPinInfo(ctx, d, 2, 1, affectConfig)
	if err != nil || n != 2 || !slices.Equal(maps, []byte{0x06, 0x0f}) {
		t.Fatalf("pin info %x %d %v", maps, n, err)
	}
	// Started, the guest runs vCPU 0 on the configured CPUs.
	if _, err := drv.Create(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	r, _ := drv.LookupByUUID(ctx, d.UUID)
	id := backend.DomID(r.ID)
	info, amap, _ := drv.GetVcpus(ctx, d, 1, 1)
	if amap[0] != 0x06 || (info[0].CPU != 1 && info[0].CPU != 2) {
		t.Fatalf("started with pin 1-2: %+v % x", info, amap)
	}
	// Live pin of vCPU 0 to CPU 3: the hypervisor, the live XML and the
	// status file have it; the config keeps 1-2.
	if err := drv.PinVcpuFlags(ctx, d, 0, []byte{0x08}, 0); err != nil {
		t.Fatal(err)
	}
	s, _ := h.Stats(ctx, []backend.DomID{id})
	if !slices.Equal(s[0].VCPUs[0].Affinity, []int{3}) || s[0].VCPUs[0].CPU != 3 {
		t.Fatalf("hypervisor: %+v", s[0].VCPUs[0])
	}
	live, _ := drv.GetXMLDesc(ctx, d, 0)
	inactive, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if !strings.Contains(live, "<vcpupin vcpu='0' cpuset='3'/>") || !strings.Contains(inactive, "<vcpupin vcpu='0' cpuset='1-2'/>") {
		t.Fatalf("live:\n%s\ninactive:\n%s", live, inactive)
	}
	if maps, n, _ := drv.GetVcpuPinInfo(ctx, d, 2, 1, 0); n != 2 || !slices.Equal(maps, []byte{0x08, 0x0f}) {
		t.Fatalf("live pin info % x %d", maps, n)
	}
	if maps, _, _ := drv.GetVcpuPinInfo(ctx, d, 2, 1, affectConfig); !slices.Equal(maps, []byte{0x06, 0x0f}) {
		t.Fatalf("config pin info % x", maps)
	}
	// LIVE|CONFIG changes both (libvirt 11.3 would change only the live one).
	if err := drv.PinVcpuFlags(ctx, d, 0, []byte{0x01}, affectLive|affectConfig); err != nil {
		t.Fatal(err)
	}
	live, _ = drv.GetXMLDesc(ctx, d, 0)
	inactive, _ = drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if !strings.Contains(live, "<vcpupin vcpu='0' cpuset='0'/>") || !strings.Contains(inactive, "<vcpupin vcpu='0' cpuset='0'/>") {
		t.Fatalf("both:\nlive:\n%s\ninactive:\n%s", live, inactive)
	}
	// vCPU 1 is offline; CPUs the host lacks fail in the hypervisor.
	err = drv.PinVcpuFlags(ctx, d, 1, []byte{0x01}, affectLive)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: vcpu '1' is not active")
	err = drv.PinVcpuFlags(ctx, d, 0, []byte{0, 0x01}, affectLive)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Failed to pin vcpu '0' with libxenlight")
	// A restarted driver reads the live pin back from the status file.
	drv.Close()
	h.Close()
	drv2, _ := e.start()
	live, _ = drv2.GetXMLDesc(ctx, d, 0)
	if !strings.Contains(live, "<vcpupin vcpu='0' cpuset='0'/>") {
		t.Fatalf("after restart:\n%s", live)
	}
}

func TestPinVcpuTransientAndDom0(t *testing.T) {
	drv, h := newEnv(t).start()
	d, err := drv.CreateXML(ctx, domXML("t", 2, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	err = drv.PinVcpuFlags(ctx, d, 0, []byte{1}, affectConfig)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: transient domains do not have any persistent config")
	_, _, err = drv.GetVcpuPinInfo(ctx, d, 1, 1, affectConfig)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: transient domains do not have any persistent config")
	// Domain-0's vCPUs are pinned on the hypervisor, as in libvirt.
	dom0, _ := drv.LookupByID(ctx, 0)
	if err := drv.PinVcpuFlags(ctx, dom0, 1, []byte{0x04}, 0); err != nil {
		t.Fatal(err)
	}
	s, _ := h.Stats(ctx, []backend.DomID{backend.Dom0})
	if !slices.Equal(s[0].VCPUs[1].Affinity, []int{2}) {
		t.Fatalf("Domain-0's vCPU 1: %+v", s[0].VCPUs[1])
	}
	if maps, n, err := drv.GetVcpuPinInfo(ctx, dom0, 8, 1, 0); err != nil || n != 4 || !slices.Equal(maps, []byte{0x0f, 0x04, 0x0f, 0x0f, 0, 0, 0, 0}) {
		t.Fatalf("Domain-0's pin info % x %d %v", maps, n, err)
	}
}
