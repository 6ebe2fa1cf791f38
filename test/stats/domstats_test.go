package stats

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// records parses virsh domstats' output: each domain's fields.
func records(out string) map[string]map[string]string {
	recs := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "Domain: '"); ok {
			cur = map[string]string{}
			recs[strings.TrimSuffix(name, "'")] = cur
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && cur != nil {
			cur[k] = v
		}
	}
	return recs
}

func names(recs map[string]map[string]string) string {
	var n []string
	for k := range recs {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, " ")
}

// onlyPrefixes checks that every field of every record starts with one of
// prefixes.
func onlyPrefixes(t *testing.T, what string, recs map[string]map[string]string, prefixes ...string) {
	t.Helper()
	for dom, r := range recs {
	field:
		for k := range r {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) {
					continue field
				}
			}
			t.Errorf("%s: %s has %s", what, dom, k)
		}
	}
}

// TestDomstats: virsh domstats with each group and each filter, a list of
// domains, --enforce, --backing, --nowait, against running, paused,
// shut-off and transient guests and Domain-0, with the keys and units of
// libvirt's QEMU driver.
func TestDomstats(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "run", guest(t, "run", "00:16:3e:5b:00:01", ""))
	define(t, d, "paused", guest(t, "paused", "00:16:3e:5b:00:02", ""))
	define(t, d, "off", guest(t, "off", "00:16:3e:5b:00:03", ""))
	d.MustVirsh("start", "run")
	d.MustVirsh("start", "--paused", "paused")
	d.MustVirsh("create", daemontest.WriteFile(t, t.TempDir(), "trans.xml", guest(t, "trans", "00:16:3e:5b:00:04", "")))
	time.Sleep(200 * time.Millisecond)

	all := records(d.MustVirsh("domstats"))
	if got := names(all); got != "Domain-0 off paused run trans" {
		t.Fatalf("domstats of %s", got)
	}
	run, vif := all["run"], "vif"+domid(t, d, "run")+".0"
	for k, want := range map[string]string{
		"state.state": "1", "state.reason": "1", "balloon.current": "196608", "balloon.maximum": "262144",
		"vcpu.current": "1", "vcpu.maximum": "2", "vcpu.0.state": "1", "net.count": "1", "net.0.name": vif,
		"net.0.rx.errs": "0", "block.count": "2", "block.0.name": "xvda", "block.1.name": "xvdb", "block.0.errors": "0",
		"block.0.capacity": "67108864", "block.0.physical": "67108864", "block.1.capacity": "8589934592",
	} {
		if run[k] != want {
			t.Errorf("run: %s=%q, want %q", k, run[k], want)
		}
	}
	for _, k := range []string{"cpu.time", "vcpu.0.time", "net.0.rx.bytes", "net.0.rx.pkts", "net.0.tx.bytes", "net.0.tx.pkts",
		"block.0.rd.reqs", "block.0.rd.bytes", "block.0.wr.reqs", "block.0.wr.bytes", "block.0.fl.reqs", "block.0.path",
		"block.1.rd.reqs", "block.1.rd.bytes", "block.1.rd.times", "block.1.wr.reqs", "block.1.wr.times", "block.1.fl.times"} {
		if run[k] == "" {
			t.Errorf("run: no %s", k)
		}
	}
	// blkback keeps no times; the qdisk image's counters are QEMU's, which
	// keeps no errors count (libvirt's Xen driver has none of these); the
	// offline vCPU is not listed.
	for _, k := range []string{"block.0.rd.times", "block.1.errors", "vcpu.1.state"} {
		if v, ok := run[k]; ok {
			t.Errorf("run: %s=%s", k, v)
		}
	}
	if p := all["paused"]; p["state.state"] != "3" || p["state.reason"] != "1" || p["vcpu.0.state"] != "0" || p["cpu.time"] == "" {
		t.Errorf("paused: %v", p)
	}
	off := all["off"]
	if off["state.state"] != "5" || off["balloon.current"] != "196608" || off["block.count"] != "2" || off["block.0.capacity"] != "67108864" ||
		off["cpu.time"] != "" || off["vcpu.0.state"] != "" || off["net.count"] != "" {
		t.Errorf("off: %v", off)
	}
	if d0 := all["Domain-0"]; d0["state.state"] != "1" || d0["vcpu.current"] == "" || d0["block.count"] != "0" {
		t.Errorf("Domain-0: %v", d0)
	}

	// Each group alone.
	for flag, prefixes := range map[string][]string{
		"--state": {"state."}, "--cpu-total": {"cpu."}, "--balloon": {"balloon."}, "--vcpu": {"vcpu."},
		"--interface": {"net."}, "--block": {"block."}, "--perf": nil, "--iothread": nil, "--memory": nil,
	} {
		recs := records(d.MustVirsh("domstats", flag))
		if len(recs) != 5 {
			t.Errorf("domstats %s: %s", flag, names(recs))
		}
		onlyPrefixes(t, "domstats "+flag, recs, prefixes...)
		if prefixes != nil && len(recs["run"]) == 0 {
			t.Errorf("domstats %s: nothing for run", flag)
		}
	}
	if r := records(d.MustVirsh("domstats", "--state", "--block", "run")); len(r) != 1 || r["run"]["block.count"] != "2" || r["run"]["state.state"] != "1" {
		t.Errorf("domstats --state --block run: %v", r)
	}

	// The filters.
	for flag, want := range map[string]string{
		"--list-active": "Domain-0 paused run trans", "--list-inactive": "off", "--list-persistent": "Domain-0 off paused run",
		"--list-transient": "trans", "--list-running": "Domain-0 run trans", "--list-paused": "paused",
		"--list-shutoff": "off", "--list-other": "",
	} {
		if got := names(records(d.MustVirsh("domstats", "--state", flag))); got != want {
			t.Errorf("domstats %s: %q, want %q", flag, got, want)
		}
	}
	if got := names(records(d.MustVirsh("domstats", "--list-running", "--list-paused"))); got != "Domain-0 paused run trans" {
		t.Errorf("running or paused: %q", got)
	}

	// A list of domains (virDomainListGetStats), the filters applied to it.
	if got := names(records(d.MustVirsh("domstats", "--state", "off", "run"))); got != "off run" {
		t.Errorf("domstats off run: %q", got)
	}
	if got := names(records(d.MustVirsh("domstats", "--state", "--list-active", "off", "run"))); got != "run" {
		t.Errorf("domstats --list-active off run: %q", got)
	}
	wantError(t, d, "failed to get domain 'nosuch'", "domstats", "nosuch")

	// --enforce: a group this daemon lacks is an error; --backing changes
	// nothing, as libxl tracks no backing chains; --raw prints the same.
	wantError(t, d, "error: argument unsupported: Stats types bits 0x40 are not supported by this daemon", "domstats", "--perf", "--enforce")
	d.MustVirsh("domstats", "--enforce", "--state", "--cpu-total", "--balloon", "--vcpu", "--interface", "--block")
	if r := records(d.MustVirsh("domstats", "--block", "--backing", "run"))["run"]; r["block.count"] != "2" || r["block.0.name"] != "xvda" {
		t.Errorf("--backing: %v", r)
	}
	if raw := records(d.MustVirsh("domstats", "--raw", "--balloon", "off"))["off"]; raw["balloon.maximum"] != "262144" {
		t.Errorf("--raw: %v", raw)
	}
}

// TestDomstatsNowait: while another client's call holds a guest's job (a
// suspend that takes three seconds), --nowait answers at once without
// what needs the job (the disks' counters); without it, domstats waits
// for the job and has them.
func TestDomstatsNowait(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "slow", strings.Replace(guest(t, "slow", "00:16:3e:5b:00:05", ""), "</domain>",
		`<metadata><sim:fault xmlns:sim="urn:virtxend:sim" delay="3s"/></metadata></domain>`, 1))
	d.MustVirsh("start", "slow")
	done := make(chan daemontest.Result, 1)
	go func() { done <- d.Virsh("suspend", "slow") }()
	for deadline := time.Now().Add(bound); ; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(d.MustVirsh("domjobinfo", "slow"), "Unbounded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the suspend never held the job")
		}
	}
	r := records(d.MustVirsh("domstats", "--nowait", "--block", "--cpu-total", "slow"))["slow"]
	if !strings.Contains(d.MustVirsh("domjobinfo", "slow"), "Unbounded") {
		t.Skip("the suspend ended while domstats --nowait ran: too slow a machine to tell")
	}
	if r["block.0.name"] != "xvda" || r["block.0.rd.reqs"] != "" || r["cpu.time"] == "" {
		t.Errorf("--nowait while busy: %v", r)
	}
	r = records(d.MustVirsh("domstats", "--block", "slow"))["slow"]
	if res := <-done; res.Code != 0 {
		t.Fatalf("suspend: %s", res.Stderr)
	}
	if r["block.0.rd.reqs"] == "" || !regexp.MustCompile(`^[0-9]+$`).MatchString(r["block.0.rd.reqs"]) {
		t.Errorf("after waiting: %v", r)
	}
}
