package stats

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestPerDomainStatistics: virsh's per-guest statistics of a running
// guest, growing while it runs, with libvirt's errors for what libxl's
// driver cannot count, and the same answers on the read-only socket.
func TestPerDomainStatistics(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "g1", guest(t, "g1", "00:16:3e:5a:00:01", ""))
	wantError(t, d, "error: Requested operation is not valid: domain is not running", "domblkstat", "g1", "xvda")
	wantError(t, d, "error: Requested operation is not valid: domain is not running", "dommemstat", "g1")
	wantError(t, d, "error: Requested operation is not valid: domain is not running", "cpu-stats", "g1")
	d.MustVirsh("start", "g1")
	vif := "vif" + domid(t, d, "g1") + ".0"
	if x := d.MustVirsh("dumpxml", "g1"); !strings.Contains(x, "<target dev='"+vif+"'/>") {
		t.Fatalf("live XML has no interface name %s:\n%s", vif, x)
	}
	// The counters follow the guest's CPU time, which the simulated load
	// makes as slow as 5% of a vCPU: wait for the first of them.
	blkstat := func() map[string]string { return fields(d.MustVirsh("domblkstat", "g1", "xvda"), "xvda ") }
	ifstat := func() map[string]string { return fields(d.MustVirsh("domifstat", "g1", vif), vif+" ") }
	waitUntil(t, "the first disk read and NIC packet", func() bool {
		return num(t, blkstat(), "rd_req") > 0 && num(t, ifstat(), "rx_packets") > 0
	})

	// domblkstat: the blkback disk, by target and by path, with the
	// flush count DOMAIN_BLOCK_STATS_FLAGS adds; --human.
	blk := blkstat()
	for _, k := range []string{"rd_req", "rd_bytes", "wr_req", "wr_bytes", "errs", "flush_operations"} {
		num(t, blk, k)
	}
	if num(t, blk, "rd_req") == 0 || num(t, blk, "rd_bytes") != 4096*num(t, blk, "rd_req") || num(t, blk, "errs") != 0 {
		t.Errorf("domblkstat xvda: %v", blk)
	}
	if h := d.MustVirsh("domblkstat", "g1", "xvda", "--human"); !strings.Contains(h, "number of read operations:") {
		t.Errorf("domblkstat --human:\n%s", h)
	}
	// The qcow2 disk runs on QEMU's qdisk, which libvirt refuses
	// ("unsupported disk driver qemu", and so the sum of every disk): here
	// it has QEMU's counters, which keep no errors count, and so has the sum.
	q := fields(d.MustVirsh("domblkstat", "g1", "xvdb"), "xvdb ")
	if _, ok := q["errs"]; ok || num(t, q, "rd_req") <= 0 || num(t, q, "rd_bytes") != 4096*num(t, q, "rd_req") {
		t.Errorf("domblkstat xvdb: %v", q)
	}
	sum := fields(d.MustVirsh("domblkstat", "g1"), " ")
	if _, ok := sum["errs"]; ok || num(t, sum, "rd_req") < num(t, blk, "rd_req")+num(t, q, "rd_req") {
		t.Errorf("domblkstat of every disk: %v (xvda %v, xvdb %v)", sum, blk, q)
	}
	wantError(t, d, "error: Requested operation is not valid: invalid path: xvdz", "domblkstat", "g1", "xvdz")

	// domifstat, by name and by MAC.
	ifs := ifstat()
	if num(t, ifs, "rx_packets") == 0 || num(t, ifs, "rx_bytes") != 1000*num(t, ifs, "rx_packets") || num(t, ifs, "tx_errs") != 0 {
		t.Errorf("domifstat %s: %v", vif, ifs)
	}
	if byMAC := d.MustVirsh("domifstat", "g1", "00:16:3e:5a:00:01"); !strings.Contains(byMAC, "00:16:3e:5a:00:01 rx_bytes ") {
		t.Errorf("domifstat by MAC:\n%s", byMAC)
	}
	wantError(t, d, "error: invalid argument: 'vif99.9' is not a known interface", "domifstat", "g1", "vif99.9")

	// dommemstat: the balloon and the memory the guest may have, in KiB.
	mem := fields(d.MustVirsh("dommemstat", "g1"), "")
	if mem["actual"] != "196608" || mem["available"] != "262144" || len(mem) != 2 {
		t.Errorf("dommemstat: %v", mem)
	}

	// cpu-stats: libxl's "CPUs" are the guest's vCPUs (the offline one
	// has no time); the total is the domain's.
	cs := d.MustVirsh("cpu-stats", "g1")
	if !regexp.MustCompile(`CPU0:\n\tcpu_time +[0-9]+\.[0-9]{9} seconds\nCPU1:\n\tcpu_time +0\.000000000 seconds\nTotal:\n\tcpu_time +[0-9.]+ seconds`).MatchString(cs) {
		t.Errorf("cpu-stats:\n%s", cs)
	}
	if one := d.MustVirsh("cpu-stats", "g1", "--start", "1", "--count", "1"); !strings.HasPrefix(strings.TrimSpace(one), "CPU1:") {
		t.Errorf("cpu-stats --start 1:\n%s", one)
	}
	if tot := d.MustVirsh("cpu-stats", "g1", "--total"); !strings.HasPrefix(strings.TrimSpace(tot), "Total:") {
		t.Errorf("cpu-stats --total:\n%s", tot)
	}
	wantError(t, d, "error: Start CPU 2 is out of range (min: 0, max: 1)", "cpu-stats", "g1", "--start", "2")

	// The counters grow while the guest runs and stand still while it is
	// paused.
	waitUntil(t, "the disk and NIC counters to grow", func() bool {
		return num(t, blkstat(), "rd_req") > num(t, blk, "rd_req") && num(t, ifstat(), "tx_bytes") > num(t, ifs, "tx_bytes")
	})
	d.MustVirsh("suspend", "g1")
	paused := d.MustVirsh("domblkstat", "g1", "xvda")
	time.Sleep(300 * time.Millisecond)
	if again := d.MustVirsh("domblkstat", "g1", "xvda"); again != paused {
		t.Errorf("a paused guest's disk counters moved:\n%s\n%s", paused, again)
	}
	d.MustVirsh("resume", "g1")

	// The read-only socket answers them all.
	ro := func(args ...string) string {
		t.Helper()
		r := daemontest.Run(t, "virsh", append([]string{"-q", "-c", d.ROURI()}, args...)...)
		if r.Code != 0 {
			t.Fatalf("read-only virsh %v: %s", args, r.Stderr)
		}
		return r.Stdout
	}
	ro("domblkstat", "g1", "xvda")
	ro("domifstat", "g1", vif)
	ro("dommemstat", "g1")
	ro("cpu-stats", "g1")
	ro("domjobinfo", "g1")
	if s := ro("domstats", "g1"); !strings.Contains(s, "block.0.rd.reqs=") {
		t.Errorf("read-only domstats:\n%s", s)
	}
}

// TestDomJobInfo: no job, then a job another client's call holds (a
// suspend of a guest whose pause takes three seconds), with its time,
// for domjobinfo and for its typed-parameter form.
func TestDomJobInfo(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	// The guest's pause takes three seconds (the simulated host's delay
	// fault), for which the suspend holds the guest's job.
	define(t, d, "slow", strings.Replace(guest(t, "slow", "00:16:3e:5a:00:02", ""), "</domain>",
		`<metadata><sim:fault xmlns:sim="urn:virtxend:sim" delay="3s"/></metadata></domain>`, 1))
	d.MustVirsh("start", "slow")
	if ji := d.MustVirsh("domjobinfo", "slow"); !regexp.MustCompile(`Job type: +None`).MatchString(ji) {
		t.Fatalf("idle domjobinfo:\n%s", ji)
	}
	done := make(chan daemontest.Result, 1)
	go func() { done <- d.Virsh("suspend", "slow") }()
	var ji string
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ji = d.MustVirsh("domjobinfo", "slow"); strings.Contains(ji, "Unbounded") {
			break
		}
	}
	if !regexp.MustCompile(`Job type: +Unbounded\s+Operation: +Unknown\s+Time elapsed: +[0-9]+ +ms`).MatchString(ji) {
		t.Errorf("domjobinfo while suspending:\n%s", ji)
	}
	if js := d.MustVirsh("domjobinfo", "slow", "--rawstats"); !regexp.MustCompile(`Job type: 2\s+time_elapsed: [0-9]+`).MatchString(js) {
		t.Errorf("domjobinfo --rawstats:\n%s", js)
	}
	if r := <-done; r.Code != 0 {
		t.Fatalf("suspend: %s", r.Stderr)
	}
	// --completed reports the last async job (a save, a dump), which
	// libvirt's Xen driver refuses and its QEMU driver serves: none yet.
	if ji := d.MustVirsh("domjobinfo", "slow", "--completed"); !regexp.MustCompile(`Job type: +None`).MatchString(ji) {
		t.Errorf("domjobinfo --completed with no job done:\n%s", ji)
	}
}

// TestDomBlkInfo: virsh domblkinfo, which libvirt's Xen driver does not
// serve, gives each disk's sizes as libvirt's QEMU driver gives them: a
// raw image's capacity and physical size its length, its allocation
// its blocks; a qcow2 image's capacity from its header. By target or by
// path, every disk with --all (a drive without media as "-"), --human,
// the guest shut off or running, on the read-only socket too, and
// libvirt's error for a disk the guest has not. And virsh domblkerror.
func TestDomBlkInfo(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	xml := guest(t, "g1", "00:16:3e:5a:00:11", `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>`)
	define(t, d, "g1", xml)
	raw := regexp.MustCompile(`<source file='([^']+\.img)'/>`).FindStringSubmatch(xml)[1]
	var st syscall.Stat_t
	if err := syscall.Stat(raw, &st); err != nil {
		t.Fatal(err)
	}
	alloc := strconv.FormatInt(st.Blocks*512, 10)
	for _, state := range []string{"shut off", "running"} {
		if state == "running" {
			d.MustVirsh("start", "g1")
		}
		for _, disk := range []string{"xvda", raw} {
			if got, want := d.MustVirsh("domblkinfo", "g1", disk), "Capacity:       67108864\nAllocation:     "+alloc+"\nPhysical:       67108864\n"; strings.TrimLeft(got, "\n") != want {
				t.Errorf("%s: domblkinfo %s:\n%s\nwant\n%s", state, disk, got, want)
			}
		}
		all := d.MustVirsh("domblkinfo", "g1", "--all")
		for _, row := range []string{
			`xvda +67108864 +` + alloc + ` +67108864`,
			`xvdb +8589934592 +[0-9]+ +32`,
			`hdc +- +- +-`,
		} {
			if !regexp.MustCompile(`(?m)^ ` + row + `$`).MatchString(all) {
				t.Errorf("%s: domblkinfo --all has no row %q:\n%s", state, row, all)
			}
		}
		if h := d.MustVirsh("domblkinfo", "g1", "xvdb", "--human"); !strings.Contains(h, "Capacity:       8.000 GiB") {
			t.Errorf("%s: domblkinfo --human:\n%s", state, h)
		}
		wantError(t, d, "error: invalid argument: invalid path xvdz not assigned to domain", "domblkinfo", "g1", "xvdz")
		wantError(t, d, "error: invalid argument: disk 'hdc' does not currently have a source assigned", "domblkinfo", "g1", "hdc")
		r := daemontest.Run(t, "virsh", "-q", "-c", d.ROURI(), "domblkinfo", "g1", "xvda")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Physical:       67108864") {
			t.Errorf("%s: read-only domblkinfo: %d %s%s", state, r.Code, r.Stdout, r.Stderr)
		}
		// domblkerror: Xen pauses no guest on a disk error, so none is in
		// libvirt's error state.
		if state == "shut off" {
			wantError(t, d, "error: Requested operation is not valid: domain is not running", "domblkerror", "g1")
		} else if got := d.MustVirsh("domblkerror", "g1"); strings.TrimSpace(got) != "No errors found" {
			t.Errorf("domblkerror: %q", got)
		}
	}
}

// TestBlockResize: virsh blockresize, which libvirt's Xen driver does not
// serve, grows a running guest's raw image (as blkback serves it: the
// file, then its loop device), by target or path, in KiB or with a unit;
// domblkinfo reads the new size; libvirt-python's blockResize in bytes.
// libvirt's errors for a disk the guest lacks, a cdrom, a shutdown guest
// and the read-only socket; shrinking and (on the simulated host) a qcow2
// image are refused as unsupported.
func TestBlockResize(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	xml := guest(t, "g1", "00:16:3e:5a:00:12", `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>`)
	define(t, d, "g1", xml)
	raw := regexp.MustCompile(`<source file='([^']+\.img)'/>`).FindStringSubmatch(xml)[1]
	wantError(t, d, "error: Requested operation is not valid: domain is not running", "blockresize", "g1", "xvda", "128M")
	d.MustVirsh("start", "g1")
	capacity := func(disk string) string {
		t.Helper()
		m := regexp.MustCompile(`Capacity: +([0-9]+)`).FindStringSubmatch(d.MustVirsh("domblkinfo", "g1", disk))
		if m == nil {
			t.Fatalf("domblkinfo %s has no capacity", disk)
		}
		return m[1]
	}
	d.MustVirsh("blockresize", "g1", "xvda", "128M")
	if got := capacity("xvda"); got != "134217728" {
		t.Errorf("after blockresize 128M: capacity %s", got)
	}
	d.MustVirsh("blockresize", "g1", raw, "200000") // KiB
	if got := capacity(raw); got != "204800000" {
		t.Errorf("after blockresize 200000 (KiB): capacity %s", got)
	}
	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
print(conn.lookupByName("g1").blockResize("xvda", 256 << 20, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES))
`)
	if strings.TrimSpace(r.Stdout) != "0" || capacity("xvda") != "268435456" {
		t.Errorf("libvirt-python's blockResize: %q %s", r.Stdout, r.Stderr)
	}
	wantError(t, d, "error: Operation not supported: ", "blockresize", "g1", "xvda", "1M")
	wantError(t, d, "can only grow", "blockresize", "g1", "xvda", "1M")
	wantError(t, d, "resizes raw images only", "blockresize", "g1", "xvdb", "16G")
	wantError(t, d, "error: Operation not supported: can't resize empty or readonly disk 'hdc'", "blockresize", "g1", "hdc", "1G")
	wantError(t, d, "error: invalid argument: disk 'xvdz' was not found in the domain config", "blockresize", "g1", "xvdz", "1G")
	wantError(t, d, "Domain-0 does not support requested operation", "blockresize", "Domain-0", "xvda", "1G")
	r = daemontest.Run(t, "virsh", "-c", d.ROURI(), "blockresize", "g1", "xvda", "1G")
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainBlockResize") {
		t.Errorf("read-only blockresize: %d %q", r.Code, r.Stderr)
	}
	if got := capacity("xvda"); got != "268435456" {
		t.Errorf("after the refusals: capacity %s", got)
	}
}
