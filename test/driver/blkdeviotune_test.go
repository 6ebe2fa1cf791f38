package drivertests

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// iotune is virsh blkdeviotune's answer: each parameter's value by name.
func iotune(t *testing.T, d *daemontest.Daemon, args ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(d.MustVirsh(append([]string{"blkdeviotune"}, args...)...), "\n") {
		if name, value, ok := strings.Cut(l, ":"); ok {
			got[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	return got
}

// wantIotune checks the named values of an answer of iotune.
func wantIotune(t *testing.T, what string, got map[string]string, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if got[kv[i]] != kv[i+1] {
			t.Errorf("%s: %s is %q, want %q (%v)", what, kv[i], got[kv[i]], kv[i+1], got)
		}
	}
}

// TestVirshBlkdeviotune: virsh blkdeviotune, which libvirt's Xen driver
// does not serve, as libvirt's QEMU driver serves it, on a running guest's
// qcow2 disk, which the device model serves: a start applies the
// definition's limits; a live change is what the device model then
// applies, shown in the live XML, with a tunable event; the limits outlive
// a daemon restart; --config keeps them for the next start; a disk blkback
// serves has none; libvirt-python's two calls; the read-only socket reads
// but does not write.
func TestVirshBlkdeviotune(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	qcow := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0)
	raw := daemontest.Image(t, dir, "raw.img", "raw", 0)
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	defineStart(t, d, "g", guestXML("g", `<devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='`+qcow+`'/><target dev='xvda' bus='xen'/>
    <iotune><total_bytes_sec>1048576</total_bytes_sec></iotune></disk>
  <disk type='file' device='disk'><driver type='raw'/><source file='`+raw+`'/><target dev='xvdb' bus='xen'/></disk>
</devices>`))
	wantIotune(t, "after the start", iotune(t, d, "g", "xvda"), "total_bytes_sec", "1048576", "read_iops_sec", "0", "group_name", "")

	events := virshEvents(t, d)
	d.MustVirsh("blkdeviotune", "g", "xvda", "--live", "--read-iops-sec", "20", "--write-iops-sec", "30", "--group-name", "g1")
	events.Expect("event 'tunable' for domain 'g':")
	events.Expect("blkdeviotune.read_iops_sec: 20")
	wantIotune(t, "after the live change", iotune(t, d, "g", "xvda"),
		"total_bytes_sec", "1048576", "read_iops_sec", "20", "write_iops_sec", "30", "group_name", "g1")
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<iotune>\n        <total_bytes_sec>1048576</total_bytes_sec>\n        <read_iops_sec>20</read_iops_sec>") {
		t.Errorf("live XML:\n%s", live)
	}
	if inactive := d.MustVirsh("dumpxml", "--inactive", "g"); strings.Contains(inactive, "read_iops_sec") {
		t.Errorf("a live change reached the persistent definition:\n%s", inactive)
	}
	virshFails(t, d, "error: invalid argument: total and read/write of iops_sec cannot be set at the same time",
		"blkdeviotune", "g", "xvda", "--total-iops-sec", "5", "--read-iops-sec", "5")
	virshFails(t, d, "error: Operation not supported: disk xvdb of domain 1 is served by blkback, which has no I/O limits",
		"blkdeviotune", "g", "xvdb", "--live", "--total-bytes-sec", "1000")

	d.Stop()
	d = daemontest.Start(t, root)
	wantIotune(t, "after a daemon restart", iotune(t, d, "g", "xvda"), "read_iops_sec", "20", "group_name", "g1")
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<read_iops_sec>20</read_iops_sec>") {
		t.Errorf("live XML after a restart:\n%s", live)
	}

	d.MustVirsh("blkdeviotune", "g", qcow, "--config", "--total-bytes-sec", "0", "--total-iops-sec", "100")
	if inactive := d.MustVirsh("dumpxml", "--inactive", "g"); !strings.Contains(inactive, "<iotune>\n        <total_iops_sec>100</total_iops_sec>\n      </iotune>") {
		t.Errorf("persistent XML:\n%s", inactive)
	}
	d.MustVirsh("destroy", "g")
	d.MustVirsh("start", "g")
	wantIotune(t, "after the next start", iotune(t, d, "g", "xvda"), "total_bytes_sec", "0", "total_iops_sec", "100", "read_iops_sec", "0")

	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("g")
dom.setBlockIoTune("xvda", {"total_bytes_sec": 4096}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
p = dom.blockIoTune("xvda", 0)
print(p["total_bytes_sec"], p["total_iops_sec"], len(p))
`)
	if got := strings.TrimSpace(r.Stdout); got != "4096 100 20" {
		t.Errorf("libvirt-python: %q %s", got, r.Stderr)
	}
	ro := daemontest.Run(t, "virsh", "-c", d.ROURI(), "blkdeviotune", "g", "xvda")
	if ro.Code != 0 || !strings.Contains(ro.Stdout, "total_bytes_sec: 4096") {
		t.Errorf("read-only blkdeviotune: %d %q %q", ro.Code, ro.Stdout, ro.Stderr)
	}
	ro = daemontest.Run(t, "virsh", "-c", d.ROURI(), "blkdeviotune", "g", "xvda", "--total-bytes-sec", "1")
	if ro.Code == 0 || !strings.Contains(ro.Stderr, "operation forbidden: read only access prevents virDomainSetBlockIoTune") {
		t.Errorf("read-only set: %d %q", ro.Code, ro.Stderr)
	}
}
