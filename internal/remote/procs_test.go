package remote

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// TestProcTable checks the table's facts for procedures whose facts are
// known from libvirt's source, including the five API names the old,
// guessed table got wrong (19, 66, 110, 316, 317).
func TestProcTable(t *testing.T) {
	for _, c := range []struct {
		num     uint32
		name    string
		api     string
		high    bool
		errors  virerr.Domain
		driver  libvirtDriver
		stream  streamDir
		preOpen bool
	}{
		{1, "CONNECT_OPEN", "", true, 0, driverHypervisor, streamNone, true},
		{19, "DOMAIN_GET_OS_TYPE", "virDomainGetOSType", true, 20, driverHypervisor, streamNone, false},
		{66, "AUTH_LIST", "", true, 0, driverHypervisor, streamNone, true},
		{110, "CONNECT_GET_URI", "virConnectGetURI", true, 20, driverHypervisor, streamNone, false},
		{316, "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY", "virConnectDomainEventRegisterAny", true, 20, driverHypervisor, streamNone, false},
		{317, "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", "virConnectDomainEventDeregisterAny", true, 20, driverHypervisor, streamNone, false},
		{14, "DOMAIN_GET_XML_DESC", "virDomainGetXMLDesc", false, 20, driverHypervisor, streamNone, false},
		{55, "DOMAIN_SAVE", "virDomainSave", false, 20, driverHypervisor, streamNone, false},
		{60, "CONNECT_SUPPORTS_FEATURE", "virConnectSupportsFeature", true, 20, driverHypervisor, streamNone, true},
		{77, "STORAGE_POOL_DEFINE_XML", "virStoragePoolDefineXML", true, 18, driverStorage, streamNone, false},
		{187, "DOMAIN_SNAPSHOT_NUM", "virDomainSnapshotNum", true, 35, driverHypervisor, streamNone, false},
		{201, "DOMAIN_OPEN_CONSOLE", "virDomainOpenConsole", false, 20, driverHypervisor, streamRead, false},
		{208, "STORAGE_VOL_UPLOAD", "virStorageVolUpload", false, 18, driverStorage, streamWrite, false},
		{273, "CONNECT_LIST_ALL_DOMAINS", "virConnectListAllDomains", true, 20, driverHypervisor, streamNone, false},
		{283, "CONNECT_LIST_ALL_NETWORKS", "virConnectListAllNetworks", true, 19, driverNetwork, streamNone, false},
		{285, "CONNECT_LIST_ALL_NODE_DEVICES", "virConnectListAllNodeDevices", true, 22, driverNodeDev, streamNone, false},
		{286, "CONNECT_LIST_ALL_NWFILTERS", "virConnectListAllNWFilters", true, 33, driverNWFilter, streamNone, false},
		{287, "CONNECT_LIST_ALL_SECRETS", "virConnectListAllSecrets", true, 30, driverSecret, streamNone, false},
		{284, "CONNECT_LIST_ALL_INTERFACES", "virConnectListAllInterfaces", true, 26, driverInterface, streamNone, false},
		// PCI passthrough is the hypervisor's, though named NODE_DEVICE.
		{301, "NODE_DEVICE_DETACH_FLAGS", "virNodeDeviceDetachFlags", false, 22, driverHypervisor, streamNone, false},
		{344, "CONNECT_GET_ALL_DOMAIN_STATS", "virConnectGetAllDomainStats", false, 20, driverHypervisor, streamNone, false},
	} {
		pi := lookupProc(c.num)
		if pi == nil {
			t.Errorf("procedure %d missing", c.num)
			continue
		}
		if pi.Name != c.name || pi.API != c.api || pi.High != c.high || pi.errors != c.errors ||
			pi.driver != c.driver || pi.stream != c.stream || pi.preOpen != c.preOpen || pi.message {
			t.Errorf("procedure %d: %s %q high=%v errors=%d %v stream=%d preOpen=%v message=%v, want %+v",
				c.num, pi.Name, pi.API, pi.High, pi.errors, pi.driver, pi.stream, pi.preOpen, pi.message, c)
		}
	}
	if lookupProc(99999) != nil {
		t.Error("found a procedure that does not exist")
	}
	for _, num := range []uint32{107, 318, 370} { // lifecycle events: domain, callback, storage pool
		if pi := lookupProc(num); pi == nil || !pi.message {
			t.Errorf("procedure %d is not an event message", num)
		}
	}
	if pi := lookupProc(370); pi.driver != driverStorage {
		t.Errorf("STORAGE_POOL_EVENT_LIFECYCLE belongs to %v", pi.driver)
	}
	for num, noAuth := range map[uint32]bool{66: true, 67: true, 70: true, 1: false, 60: false} {
		if lookupProc(num).NoAuth != noAuth {
			t.Errorf("procedure %d: NoAuth %v", num, !noAuth)
		}
	}
}

// TestProcTableReadOnlyRules checks the rules and libvirt's wording of
// each refusal.
func TestProcTableReadOnlyRules(t *testing.T) {
	dom := libvirt.Domain{Name: "g"}
	for _, c := range []struct {
		num  uint32
		args any
		msg  string // "" when allowed
		from virerr.Domain
	}{
		{55, &libvirt.DomainSaveArgs{Dom: dom}, "operation forbidden: read only access prevents virDomainSave", 20},
		{135, &libvirt.ConnectDomainXMLFromNativeArgs{}, "operation forbidden: read only access prevents virConnectDomainXMLFromNative", 20},
		{16, &libvirt.DomainGetInfoArgs{Dom: dom}, "", 0},
		{14, &libvirt.DomainGetXMLDescArgs{Dom: dom}, "", 0},
		{14, &libvirt.DomainGetXMLDescArgs{Dom: dom, Flags: libvirt.DomainXMLSecure}, "operation forbidden: virDomainGetXMLDesc with secure flag", 20},
		{14, &libvirt.DomainGetXMLDescArgs{Dom: dom, Flags: libvirt.DomainXMLMigratable}, "operation forbidden: virDomainGetXMLDesc with secure flag", 20},
		{200, &libvirt.DomainGetVcpusFlagsArgs{Dom: dom, Flags: uint32(libvirt.DomainAffectLive)}, "", 0},
		{200, &libvirt.DomainGetVcpusFlagsArgs{Dom: dom, Flags: uint32(libvirt.DomainVCPUGuest)}, "operation forbidden: read only access prevents virDomainGetVcpusFlags", 20},
		{353, &libvirt.DomainInterfaceAddressesArgs{Dom: dom, Source: uint32(libvirt.DomainInterfaceAddressesSrcLease)}, "", 0},
		{353, &libvirt.DomainInterfaceAddressesArgs{Dom: dom, Source: uint32(libvirt.DomainInterfaceAddressesSrcAgent)}, "operation forbidden: read only access prevents virDomainInterfaceAddresses", 20},
		{77, &libvirt.StoragePoolDefineXMLArgs{}, "operation forbidden: read only access prevents virStoragePoolDefineXML", 18},
		{186, &libvirt.DomainSnapshotGetXMLDescArgs{Flags: 1}, "operation forbidden: virDomainSnapshotGetXMLDesc with secure flag", 35},
	} {
		err := lookupProc(c.num).ReadOnly.Check(c.args)
		e := virerr.As(err)
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("procedure %d %+v: refused: %v", c.num, c.args, err)
		case c.msg != "" && (e == nil || e.Error() != c.msg || e.Domain != c.from || e.Code != libvirt.ErrOperationDenied):
			t.Errorf("procedure %d %+v: %+v, want %q in domain %d", c.num, c.args, e, c.msg, c.from)
		}
	}
}

// TestNewAnswersEveryCall checks the program: handlers where the area
// files attach them, libvirt's "not supported" in the entry point's error
// domain for every other call, and no event message callable.
func TestNewAnswersEveryCall(t *testing.T) {
	prog := New(Deps{})
	for _, c := range []struct {
		num  uint32
		msg  string
		from virerr.Domain
	}{
		{214, "this function is not supported by the connection driver: virDomainMigratePrepare3", 20},
		{412, "this function is not supported by the connection driver: virDomainCheckpointGetXMLDesc", 69},
		{334, "this function is not supported by the connection driver: virDomainCoreDumpWithFormat", 20},
		{384, "this function is not supported by the connection driver: virDomainSetVcpu", 20},
	} {
		p := prog.Procedure(c.num)
		_, err := p.Handler(context.Background(), nil, p.NewArgs())
		if e := virerr.As(err); e.Code != libvirt.ErrNoSupport || e.Error() != c.msg || e.Domain != c.from {
			t.Errorf("procedure %d: %+v, want %q in domain %d", c.num, e, c.msg, c.from)
		}
	}
	for _, num := range []uint32{107, 318, 379} {
		if prog.Procedure(num) != nil {
			t.Errorf("event message %d is callable", num)
		}
	}
	// The secondary drivers' calls are passed on undecoded, and read-only
	// clients are refused by the daemon they go to; the hypervisor
	// driver's node device calls stay ours.
	for num, forwarded := range map[uint32]bool{77: true, 209: true, 38: true, 301: false} {
		if p := prog.Procedure(num); p == nil || p.Raw != forwarded || (forwarded && p.ReadOnly.Check(nil) != nil) {
			t.Errorf("procedure %d: %+v, forwarded %v", num, p, forwarded)
		}
	}
	if p := prog.Procedure(34); p == nil || p.API != "virDomainSuspend" || p.ReadOnly.Check(p.NewArgs()) == nil {
		t.Errorf("DOMAIN_SUSPEND: %+v", p)
	}
	calls := 0
	for _, pi := range procTable {
		if !pi.message {
			calls++
		}
	}
	if n := len(prog.Procedures()); n != calls {
		t.Errorf("%d procedures registered, want every call: %d", n, calls)
	}
}

// TestProcTableIsGenerated checks procs.gen.go is what its go:generate
// line makes now from the committed data file: generated code is never
// edited by hand.
func TestProcTableIsGenerated(t *testing.T) {
	args := generateArgs(t, "procs.go")
	out := filepath.Join(t.TempDir(), "procs.gen.go")
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, msg)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("procs.gen.go")
	if string(got) != string(want) {
		t.Fatal("procs.gen.go is stale: run go generate ./internal/remote")
	}
}

// generateArgs is the command of the //go:generate line in file.
func generateArgs(t *testing.T, file string) []string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cmd, ok := strings.CutPrefix(sc.Text(), "//go:generate "); ok {
			return strings.Fields(cmd)
		}
	}
	t.Fatalf("%s has no go:generate line", file)
	return nil
}
