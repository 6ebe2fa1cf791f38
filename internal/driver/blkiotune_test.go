package driver

import (
	"fmt"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/events"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// iotuneParams are SetBlockIoTune's parameters from name, value pairs (a
// string value is group_name's).
func iotuneParams(kv ...any) []libvirt.TypedParam {
	var ps []libvirt.TypedParam
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if s, ok := kv[i+1].(string); ok {
			ps = append(ps, typedparam.NewString(name, s))
			continue
		}
		ps = append(ps, libvirt.TypedParam{Field: name, Value: *libvirt.NewTypedParamValueUllong(uint64(kv[i+1].(int)))})
	}
	return ps
}

// iotuneOfParams is GetBlockIoTune's answer as "name=value" for each value
// not 0 or "", in order.
func iotuneOfParams(params []libvirt.TypedParam) string {
	var out []string
	for _, p := range params {
		if v := fmt.Sprint(p.Value.I); v != "0" && v != "" {
			out = append(out, p.Field+"="+v)
		}
	}
	return strings.Join(out, " ")
}

// TestBlockIoTune: blkdeviotune's calls as libvirt's QEMU driver answers
// them, on the disk the device model serves (a qcow2 image): a family not
// named keeps its figures, a group shares them, all 0 lifts them; the
// device model applies them and a tunable event follows; what libvirt
// refuses is refused; a disk blkback serves has no limits; a start
// applies the definition's.
func TestBlockIoTune(t *testing.T) {
	drv, h := newEnv(t).start()
	_, devs := statsDevices(t)
	d := define(t, drv, "g", 1, devs)
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if _, n, err := drv.GetBlockIoTune(ctx, d, "", 0, 0); n != 20 || err != nil {
		t.Fatalf("nparams 0: %d, %v", n, err)
	}
	_, _, err := drv.GetBlockIoTune(ctx, d, "xvdc", 20, live)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	// the persistent definition, then a start that applies it
	if err := drv.SetBlockIoTune(ctx, d, "xvdc", iotuneParams("total_bytes_sec", 1<<20, "group_name", "g1"), 0); err != nil {
		t.Fatal(err)
	}
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	id := backend.DomID(started.ID)
	if th, err := h.DiskThrottle(ctx, id, "xvdc"); err != nil || th != (backend.DiskThrottle{TotalBytesSec: 1 << 20, GroupName: "g1"}) {
		t.Fatalf("the start's limits: %+v, %v", th, err)
	}
	w := watchBroker(t, drv.Events())
	if _, err := w.sub.Register(events.IDTunable, nil, false); err != nil {
		t.Fatal(err)
	}
	get := func(flags uint32) string {
		t.Helper()
		params, n, err := drv.GetBlockIoTune(ctx, started, "xvdc", 32, flags)
		if err != nil || n != 20 || params[13].Field != "group_name" || params[19].Field != "write_iops_sec_max_length" {
			t.Fatalf("get: %v %d %v", params, n, err)
		}
		return iotuneOfParams(params)
	}
	// a burst: the bytes family stays; then the iops family: only the
	// families named change
	if err := drv.SetBlockIoTune(ctx, started, "xvdc", iotuneParams("total_bytes_sec_max", 2<<20, "total_bytes_sec_max_length", 5), live); err != nil {
		t.Fatal(err)
	}
	if got, want := get(0), "total_bytes_sec=1048576 total_bytes_sec_max=2097152 group_name=g1 total_bytes_sec_max_length=5"; got != want {
		t.Errorf("live after the burst:\n%s\nwant\n%s", got, want)
	}
	if ev := w.next(); ev.ID != events.IDTunable || iotuneOfParams(ev.Params) != "blkdeviotune.disk=xvdc blkdeviotune.total_bytes_sec_max=2097152 blkdeviotune.total_bytes_sec_max_length=5" {
		t.Errorf("tunable event %+v", ev)
	}
	if err := drv.SetBlockIoTune(ctx, started, "xvdc", iotuneParams("read_iops_sec", 20, "write_iops_sec", 30), live); err != nil {
		t.Fatal(err)
	}
	if got, want := get(live), "total_bytes_sec=1048576 read_iops_sec=20 write_iops_sec=30 total_bytes_sec_max=2097152 group_name=g1 total_bytes_sec_max_length=5"; got != want {
		t.Errorf("live after the iops:\n%s\nwant\n%s", got, want)
	}
	w.next()
	xml, _ := drv.GetXMLDesc(ctx, started, 0)
	if !strings.Contains(xml, "<iotune>\n        <total_bytes_sec>1048576</total_bytes_sec>\n        <read_iops_sec>20</read_iops_sec>") {
		t.Errorf("live XML:\n%s", xml)
	}
	if got := get(config); got != "total_bytes_sec=1048576 group_name=g1" {
		t.Errorf("a live change reached the persistent definition: %s", got)
	}
	// what libvirt refuses, before anything changes
	for _, c := range []struct {
		params []libvirt.TypedParam
		code   virerr.Code
		msg    string
	}{
		{iotuneParams("total_bytes_sec", 1, "read_bytes_sec", 1), libvirt.ErrInvalidArg, "invalid argument: total and read/write of bytes_sec cannot be set at the same time"},
		{iotuneParams("total_iops_sec_max", 1, "write_iops_sec_max", 1), libvirt.ErrInvalidArg, "invalid argument: total and read/write of iops_sec_max cannot be set at the same time"},
		{iotuneParams("total_bytes_sec", 1_000_000_000_000_001), libvirt.ErrArgumentUnsupported, "argument unsupported: block I/O throttle limit value must be no more than 1000000000000000"},
		{iotuneParams("total_bytes_sec", 3<<20), libvirt.ErrConfigUnsupported, "unsupported configuration: value 'total_bytes_sec_max' cannot be smaller than 'total_bytes_sec'"},
		{iotuneParams("read_bytes_sec_max", 10), libvirt.ErrConfigUnsupported, "unsupported configuration: cannot reset 'read_bytes_sec' when 'read_bytes_sec_max' is set"},
		{iotuneParams("total_bytes_sec", 0, "total_bytes_sec_max", 0, "total_bytes_sec_max_length", 0, "read_iops_sec", 0, "write_iops_sec", 0, "group_name", "new"),
			libvirt.ErrConfigUnsupported, "unsupported configuration: creating a new group/updating existing with all tune parameters zero is not supported"},
	} {
		if err := drv.SetBlockIoTune(ctx, started, "xvdc", c.params, live); err == nil {
			t.Fatalf("%s: no error", c.msg)
		} else {
			wantErr(t, err, c.code, virerr.FromLibxl, c.msg)
		}
	}
	wantErr(t, drv.SetBlockIoTune(ctx, started, "xvdz", iotuneParams("total_bytes_sec", 1), live), libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: disk 'xvdz' not found in domain")
	wantErr(t, drv.SetBlockIoTune(ctx, started, "xvdc", iotuneParams("total_bytes_sec", 1), 1<<5), libvirt.ErrInvalidArg, virerr.FromLibxl,
		"unsupported flags (0x20) in function libxlDomainSetBlockIoTune")
	// blkback has none
	wantErr(t, drv.SetBlockIoTune(ctx, started, "xvda", iotuneParams("total_bytes_sec", 1), live), libvirt.ErrOperationUnsupported, virerr.FromLibxl, "")
	if got := get(0); !strings.HasPrefix(got, "total_bytes_sec=1048576 read_iops_sec=20") {
		t.Errorf("a refused change changed the limits: %s", got)
	}
	// both definitions at once: each merges the change with its own
	if err := drv.SetBlockIoTune(ctx, started, "xvdc", iotuneParams("read_iops_sec", 0, "write_iops_sec", 0, "total_iops_sec", 50), live|config); err != nil {
		t.Fatal(err)
	}
	w.next()
	if got := get(config); got != "total_bytes_sec=1048576 total_iops_sec=50 group_name=g1" {
		t.Errorf("config after --live --config: %s", got)
	}
	// a burst length without its burst: QEMU's refusal
	wantErr(t, drv.SetBlockIoTune(ctx, started, "xvdc", iotuneParams("total_bytes_sec_max", 0), live), libvirt.ErrInternalError, virerr.FromLibxl,
		"internal error: Failed to throttle disk 'xvdc' of domain '1': invalid request: burst length set without burst rate")
	// all 0 (the burst's length too, which libvirt would keep) lifts
	// them all and leaves the group
	zero := iotuneParams("total_bytes_sec", 0, "total_bytes_sec_max", 0, "total_bytes_sec_max_length", 0, "total_iops_sec", 0)
	if err := drv.SetBlockIoTune(ctx, started, "xvdc", zero, live); err != nil {
		t.Fatal(err)
	}
	if th, err := h.DiskThrottle(ctx, id, "xvdc"); err != nil || th != (backend.DiskThrottle{}) {
		t.Fatalf("after all 0: %+v, %v", th, err)
	}
	if xml, _ := drv.GetXMLDesc(ctx, started, 0); strings.Contains(xml, "iotune") {
		t.Errorf("live XML keeps an <iotune> after all 0:\n%s", xml)
	}
	// a hotplugged disk takes its <iotune>; a raw one, which blkback
	// serves, is plugged without (a warning)
	src := strings.Split(strings.Split(devs, "<driver name='qemu' type='qcow2'/><source file='")[1], "'")[0]
	hot := `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='` + src + `'/><target dev='xvdd' bus='xen'/>
  <iotune><write_bytes_sec>4096</write_bytes_sec></iotune></disk>`
	if err := drv.AttachDevice(ctx, started, hot, live); err != nil {
		t.Fatal(err)
	}
	if th, err := h.DiskThrottle(ctx, id, "xvdd"); err != nil || th != (backend.DiskThrottle{WriteBytesSec: 4096}) {
		t.Errorf("the hotplugged disk's limits: %+v, %v", th, err)
	}
	raw := strings.Replace(strings.Replace(hot, "xvdd", "xvde", 1), "name='qemu' type='qcow2'", "type='raw'", 1)
	if err := drv.AttachDevice(ctx, started, raw, live); err != nil {
		t.Errorf("a raw disk with <iotune>: %v", err)
	}
}

// TestBlockIoTuneGroup: a disk that names another disk's group takes the
// group's figures for what it does not name, and every disk of the group
// the result (the persistent definition: no device model involved).
func TestBlockIoTuneGroup(t *testing.T) {
	drv, _ := newEnv(t).start()
	_, devs := statsDevices(t)
	d := define(t, drv, "g", 1, devs)
	if err := drv.SetBlockIoTune(ctx, d, "xvdc", iotuneParams("total_bytes_sec", 100, "total_iops_sec", 10, "group_name", "g1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := drv.SetBlockIoTune(ctx, d, "xvda", iotuneParams("total_iops_sec", 20, "group_name", "g1"), 0); err != nil {
		t.Fatal(err)
	}
	for _, disk := range []string{"xvda", "xvdc"} {
		params, _, err := drv.GetBlockIoTune(ctx, d, disk, 20, 0)
		if got := iotuneOfParams(params); err != nil || got != "total_bytes_sec=100 total_iops_sec=20 group_name=g1" {
			t.Errorf("%s: %s %v", disk, got, err)
		}
	}
	_, _, err := drv.GetBlockIoTune(ctx, d, "xvdz", 20, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: disk 'xvdz' was not found in the domain config")
	wantErr(t, drv.SetBlockIoTune(ctx, d, "xvdz", iotuneParams("total_bytes_sec", 1), 0), libvirt.ErrInvalidArg, virerr.FromLibxl,
		"invalid argument: missing persistent configuration for disk 'xvdz'")
}
