package driver

import (
	"os"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

const (
	evDefined   = libvirt.DomainEventDefined
	evUndefined = libvirt.DomainEventUndefined
	evStarted   = libvirt.DomainEventStarted
	evSuspended = libvirt.DomainEventSuspended
	evResumed   = libvirt.DomainEventResumed
	evStopped   = libvirt.DomainEventStopped
)

func TestDom0Present(t *testing.T) {
	drv, _ := newEnv(t).start()
	d, err := drv.LookupByID(ctx, 0)
	if err != nil || d.Name != "Domain-0" || d.UUID != (backend.UUID{}) {
		t.Fatalf("%+v %v", d, err)
	}
	st, _ := stateOf(t, drv, d)
	p, _ := drv.IsPersistent(ctx, d)
	if st != libvirt.DomainRunning || !p {
		t.Fatalf("state %v persistent %v", st, p)
	}
	info, err := drv.GetInfo(ctx, d)
	if err != nil || info.MemKiB != 4096*1024 || info.MaxMemKiB != 16384*1024 || info.NrVirtCPU != 4 {
		t.Fatalf("info %+v %v", info, err)
	}
	// As libvirt 9.0's and 11.3's libxl drivers show it (test/xen's oracle):
	// its XML, "running (unknown)", and "xen" for its OS type.
	x, err := drv.GetXMLDesc(ctx, d, 0)
	want := "<domain type='xen' id='0'>\n  <name>Domain-0</name>\n  <uuid>00000000-0000-0000-0000-000000000000</uuid>\n" +
		"  <memory unit='KiB'>16777216</memory>\n  <currentMemory unit='KiB'>4194304</currentMemory>\n" +
		"  <vcpu placement='static'>4</vcpu>\n  <os>\n    <type>linux</type>\n  </os>\n  <clock offset='utc'/>\n" +
		"  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n" +
		"  <devices>\n  </devices>\n</domain>\n"
	if err != nil || x != want {
		t.Errorf("Domain-0's XML (%v):\n%s\nwant\n%s", err, x, want)
	}
	if _, reason := stateOf(t, drv, d); reason != int32(libvirt.DomainRunningUnknown) {
		t.Errorf("Domain-0's state reason %d, want unknown", reason)
	}
	if os, err := drv.GetOSType(ctx, d); err != nil || os != "xen" {
		t.Errorf("Domain-0's OS type %q %v, want xen", os, err)
	}
	msg := "Requested operation is not valid: Domain-0 does not support requested operation"
	for name, err := range map[string]error{
		"suspend":   drv.Suspend(ctx, d),
		"resume":    drv.Resume(ctx, d),
		"shutdown":  drv.Shutdown(ctx, d, 0),
		"reboot":    drv.Reboot(ctx, d, 0),
		"destroy":   drv.Destroy(ctx, d, 0),
		"autostart": drv.SetAutostart(ctx, d, true),
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, msg) })
	}
	list, _ := drv.ListAll(ctx, uint32(libvirt.ConnectListDomainsActive))
	if len(list) != 1 || list[0].ID != 0 {
		t.Fatalf("list %+v", list)
	}
}

func TestDefineStartShutdownUndefine(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	w := watch(t, drv)
	d := define(t, drv, "vm1", 1, "")
	if d.ID != -1 {
		t.Fatalf("id %d", d.ID)
	}
	if _, err := os.Stat(e.root.DomainConfigDir() + "/vm1.xml"); err != nil {
		t.Fatal(err)
	}
	define(t, drv, "vm1", 1, "<title>again</title>")
	w.expect(lc{"vm1", evDefined, int32(libvirt.DomainEventDefinedAdded)}, lc{"vm1", evDefined, int32(libvirt.DomainEventDefinedUpdated)})

	started, err := drv.Create(ctx, d, 0)
	if err != nil || started.ID <= 0 {
		t.Fatalf("create: %+v %v", started, err)
	}
	w.expect(lc{"vm1", evStarted, int32(libvirt.DomainEventStartedBooted)})
	if st, r := stateOf(t, drv, d); st != libvirt.DomainRunning || r != int32(libvirt.DomainRunningBooted) {
		t.Fatalf("state %v/%d", st, r)
	}
	if drv.Active() != 1 {
		t.Fatalf("active %d", drv.Active())
	}
	if _, err := os.Stat(e.root.StateDir() + "/vm1.xml"); err != nil {
		t.Fatal("no status file:", err)
	}
	x, _ := drv.GetXMLDesc(ctx, d, 0)
	if !strings.Contains(x, "id=\"") && !strings.Contains(x, "id='") {
		t.Fatalf("live XML lacks id: %s", x)
	}
	_, err = drv.Create(ctx, d, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain is already running")

	if err := drv.Shutdown(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"vm1", evStopped, int32(libvirt.DomainEventStoppedShutdown)})
	if st, r := stateOf(t, drv, d); st != libvirt.DomainShutoff || r != int32(libvirt.DomainShutoffShutdown) {
		t.Fatalf("state %v/%d", st, r)
	}
	if list, _ := h.Guests(ctx); len(list) != 1 {
		t.Fatalf("guest not destroyed: %+v", list)
	}
	if _, err := os.Stat(e.root.StateDir() + "/vm1.xml"); !os.IsNotExist(err) {
		t.Fatal("status file left behind")
	}
	err = drv.Shutdown(ctx, d, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")

	if err := drv.Undefine(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"vm1", evUndefined, int32(libvirt.DomainEventUndefinedRemoved)})
	// The client's name for the vanished domain is in the error, as libxlDomObjFromDomain reports it.
	_, err = drv.GetInfo(ctx, d)
	wantErr(t, err, libvirt.ErrNoDomain, virerr.FromLibxl, "Domain not found: no domain with matching uuid '01345678-1234-1234-1234-123456789abc' (vm1)")
	if drv.Active() != 0 {
		t.Fatalf("active %d", drv.Active())
	}
}

func TestDefineConflicts(t *testing.T) {
	drv, _ := newEnv(t).start()
	define(t, drv, "a", 1, "")
	_, err := drv.Define(ctx, domXML("b", 1, ""), 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromDomain,
		"operation failed: domain 'a' is already defined with uuid 01345678-1234-1234-1234-123456789abc")
	_, err = drv.Define(ctx, domXML("a", 2, ""), 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromDomain,
		"operation failed: domain 'a' already exists with uuid 01345678-1234-1234-1234-123456789abc")
	_, err = drv.Define(ctx, domXML("c", 3, ""), 4)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl,
		"unsupported flags (0x4) in function libxlDomainDefineXMLFlags")
	_, err = drv.Define(ctx, "<domain", 0)
	if err == nil {
		t.Fatal("bad XML accepted")
	}
}

func TestTransientCreateAndDestroy(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	w := watch(t, drv)
	d, err := drv.CreateXML(ctx, domXML("tr", 5, ""), uint32(libvirt.DomainStartPaused))
	if err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"tr", evStarted, int32(libvirt.DomainEventStartedBooted)})
	if st, r := stateOf(t, drv, d); st != libvirt.DomainPaused || r != int32(libvirt.DomainPausedUser) {
		t.Fatalf("state %v/%d", st, r)
	}
	if p, _ := drv.IsPersistent(ctx, d); p {
		t.Fatal("transient domain persistent")
	}
	_, err = drv.CreateXML(ctx, domXML("tr", 5, ""), 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain 'tr' is already active")
	err = drv.Undefine(ctx, d, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: cannot undefine transient domain")
	err = drv.SetAutostart(ctx, d, true)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "")

	if err := drv.Resume(ctx, d); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"tr", evResumed, int32(libvirt.DomainEventResumedUnpaused)})
	if err := drv.Suspend(ctx, d); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"tr", evSuspended, int32(libvirt.DomainEventSuspendedPaused)})
	if err := drv.Suspend(ctx, d); err != nil {
		t.Fatal("second suspend:", err)
	}
	if err := drv.Destroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"tr", evStopped, int32(libvirt.DomainEventStoppedDestroyed)})
	w.none()
	if _, err := drv.LookupByName(ctx, "tr"); err == nil {
		t.Fatal("transient domain kept after destroy")
	}
}

func TestStartFailures(t *testing.T) {
	e := newEnv(t)
	e.cfg.Sim.MemoryMiB, e.cfg.Sim.Dom0MemoryMiB = 4096, 3072
	drv, _ := e.start()
	fault := `<metadata><s:fault xmlns:s="urn:virtxend:sim" start="fail"/></metadata>`
	d := define(t, drv, "bad", 1, fault)
	_, err := drv.Create(ctx, d, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: libxenlight failed to create new domain 'bad'")
	if st, _ := stateOf(t, drv, d); st != libvirt.DomainShutoff {
		t.Fatalf("state %v", st)
	}
	big := strings.Replace(strings.Replace(domXML("big", 2, ""), "<memory unit='MiB'>256", "<memory unit='MiB'>2048", 1), "<currentMemory unit='MiB'>128", "<currentMemory unit='MiB'>2048", 1)
	_, err = drv.CreateXML(ctx, big, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: libxenlight failed to create new domain 'big'")
	if _, err := drv.LookupByName(ctx, "big"); err == nil {
		t.Fatal("failed transient domain kept")
	}
	// With autoballoon Domain-0 gives the memory back.
	e.cfg.Autoballoon = true
	if _, err := drv.CreateXML(ctx, big, 0); err != nil {
		t.Fatal("autoballoon start:", err)
	}
	huge := strings.Replace(strings.Replace(domXML("huge", 3, ""), "<memory unit='MiB'>256", "<memory unit='MiB'>8192", 1), "<currentMemory unit='MiB'>128", "<currentMemory unit='MiB'>8192", 1)
	_, err = drv.CreateXML(ctx, huge, 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: Failed to balloon domain0 memory")
}
