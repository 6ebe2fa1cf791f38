package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeLines(t *testing.T) {
	n := &Normalizer{keep: map[string]bool{}}
	n.Keep("<uuid>4f1c2a8e-0b5d-4e6a-9c3b-7d2e1f0a5b61</uuid> <mac address='00:16:3e:4f:1c:2a'/>")
	cases := []struct{ section, in, want string }{
		{"x/y", "<domain type='xen' id='12'>", "<domain type='xen' id='ID'>"},
		{"x/y", "<domain type='xen' id='0'>", "<domain type='xen' id='0'>"},
		{"x/y", "Id:             7", "Id: ID"},
		{"x/y", "Id:             -", "Id: -"},
		{"x/y", " 12   vx-pv      running", " ID vx-pv running"},
		{"x/y", " 100   vx-pv      running", " ID vx-pv running"},
		{"x/y", "---------------------------", "---"},
		{"x/y", "  ---  ", "  ---"},
		{"x/y", " 0    Domain-0   running", " 0 Domain-0 running"},
		{"x/y", " -    vx-dev     shut off", " - vx-dev shut off"},
		{"running/list-all-id", "13", "ID"},
		{"host/maxvcpus", "128", "128"},
		{"host/freecell-all", "    0: 510308 KiB", "    0: FREE KiB"},
		{"host/nodeinfo", "Memory size:         1048060 KiB", "Memory size: 1048060 KiB"},
		{"x/y", "  <uuid>0b0c3f7e-5b5f-4c9e-9b7a-1f2e3d4c5b6a</uuid>", "  <uuid>UUID</uuid>"},
		{"x/y", "  <uuid>4f1c2a8e-0b5d-4e6a-9c3b-7d2e1f0a5b61</uuid>", "  <uuid>4f1c2a8e-0b5d-4e6a-9c3b-7d2e1f0a5b61</uuid>"},
		{"x/y", "UUID:           00000000-0000-0000-0000-000000000000", "UUID: 00000000-0000-0000-0000-000000000000"},
		{"x/y", "      <mac address='00:16:3e:12:34:56'/>", "      <mac address='MAC'/>"},
		{"x/y", "      <mac address='00:16:3E:4F:1C:2A'/>", "      <mac address='00:16:3E:4F:1C:2A'/>"},
		{"x/y", "      <source path='/dev/pts/3'/>", "      <source path='/dev/pts/N'/>"},
		{"x/y", " vif12.0 bridge xenbr0", " vifID.0 bridge xenbr0"},
		{"x/y", "    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>",
			"    <graphics type='vnc' port='PORT' autoport='yes' listen='127.0.0.1'>"},
		{"x/y", "    <graphics type='vnc' port='5905' autoport='no'>", "    <graphics type='vnc' port='5905' autoport='no'>"},
		{"x/y", "CPU time:       1.9s", "CPU time: T"},
		{"x/y", "error: internal error: Failed to set scheduler parameters for domain '5' with libxenlight",
			"error: internal error: Failed to set scheduler parameters for domain 'ID' with libxenlight"},
		{"x/y", "error: Domain '0' x; domain 'vx-pv'", "error: Domain '0' x; domain 'vx-pv'"},
		{"host/uri", "xen+unix:///system?socket=/vxo/run/libvirt/virtxend-sock", "xen+unix:///system?socket=SOCKET"},
		{"x/y", "Running against daemon: 11.3.0", "Running against daemon: VERSION"},
		{"x/y", "  <cmdline>a  b</cmdline>  ", "  <cmdline>a b</cmdline>"},
		{"running/vcpuinfo", "CPU:            1", "CPU: N"},
		{"running/vcpuinfo", "CPU Affinity:   yy", "CPU Affinity: yy"},
		{"running/vcpuinfo", "State:          blocked", "State: STATE"},
		{"running/vcpuinfo", "State:          offline", "State: STATE"},
		{"running/dominfo-pv", "State:          running", "State: running"},
		{"running/domblkstat", "xvda rd_req 4", "xvda rd_req N"},
		{"running/domifstat", "vif34.0 tx_drop 0", "vifID.0 tx_drop N"},
		{"running/dommemstat", "actual 131072", "actual 131072"},
		{"running/cpu-stats", "\tcpu_time             6.621881484 seconds", "\tcpu_time N seconds"},
		{"running/cpu-stats", "Total:", "Total:"},
	}
	for _, c := range cases {
		got := n.Lines(c.section, []string{c.in})
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: %q -> %q, want %q", c.section, c.in, got, c.want)
		}
	}
	if got := n.Lines("x/y", []string{"a", "", ""}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("trailing blank lines kept: %q", got)
	}
}

func TestDiff(t *testing.T) {
	a := []string{"a", "b", "c", "d"}
	b := []string{"a", "c", "x", "d", "e"}
	got := Diff(a, b)
	want := []DiffLine{{'-', "b"}, {'+', "x"}, {'+', "e"}}
	if !slices.Equal(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff of equal = %q", d)
	}
}

func parseKnown(t *testing.T, text string) (*Known, error) {
	t.Helper()
	return ParseKnown(bufio.NewScanner(strings.NewReader(text)))
}

func TestKnown(t *testing.T) {
	k, err := parseKnown(t, `# comment
[host/capabilities]
[host/domcapabilities-*]
- <clusters/>
+ <cpu .*cluster_id='0'.*/>
reason: libvirt 9.0 has no clusters;
  11.3 has them

[native/*]
* x
reason: r
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Entries) != 2 || k.Entries[0].Reason != "libvirt 9.0 has no clusters; 11.3 has them" || k.Entries[0].At != 2 {
		t.Fatalf("entries %+v", k.Entries[0])
	}
	if k.Explain("host/capabilities", '-', "  <clusters/>  ") == nil {
		t.Error("- line of the entry not matched")
	}
	if k.Explain("host/capabilities", '+', "<clusters/>") != nil {
		t.Error("a - pattern matched a + line")
	}
	if k.Explain("host/domcapabilities-pv", '+', "<cpu id='0' cluster_id='0'/>") == nil {
		t.Error("second glob not matched")
	}
	if k.Explain("host/nodeinfo", '-', "<clusters/>") != nil {
		t.Error("matched outside its sections")
	}
	if k.Explain("host/capabilities", '-', "<clusters/> and more") != nil {
		t.Error("pattern not anchored")
	}
	if k.Explain("native/to-xl/basic-pv", '+', "x") == nil {
		t.Error("[native/*] does not span native/to-xl/...")
	}
	if u := k.Unused(); len(u) != 0 {
		t.Errorf("unused %v", u)
	}
	for _, bad := range []string{
		"[a/b]\n- x\n",             // no reason
		"[a/b]\nreason: r\n",       // no line
		"- x\nreason: r\n",         // no glob
		"[a/b]\n- (x\nreason: r\n", // bad regex
		"[a/b]\n- x\nreason: r\n[c]\n",
		"[a/b]\nfoo\n",
	} {
		if _, err := parseKnown(t, bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompare(t *testing.T) {
	d := t.TempDir()
	lv, vx := filepath.Join(d, "libvirt"), filepath.Join(d, "virtxend")
	write(t, lv, "host.txt", "@@@ host/version\nRunning hypervisor: Xen 4.17.0\n\n(Time: 2.000 ms)\n\n@@@ host/sysinfo\nerror: no\n")
	write(t, vx, "host.txt", "@@@ host/version\nRunning hypervisor: Xen 4.17.0\n\n(Time: 5.500 ms)\n\n@@@ host/sysinfo\nerror: yes\n")
	write(t, lv, "define.txt", "@@@ define/a\n<domain type='xen' id='3'>\n  <uuid>0b0c3f7e-5b5f-4c9e-9b7a-1f2e3d4c5b6a</uuid>\n")
	write(t, vx, "define.txt", "@@@ define/a\n<domain type='xen' id='9'>\n  <uuid>1b0c3f7e-5b5f-4c9e-9b7a-1f2e3d4c5b6a</uuid>\n")
	write(t, lv, "json/g.json", `{"c_info":{"name":"g","uuid":"0b0c3f7e-5b5f-4c9e-9b7a-1f2e3d4c5b6a"},"b_info":{"max_vcpus":2,"tsc_mode":"default"}}`)
	write(t, vx, "json/g.json", `{"c_info":{"name":"g","uuid":"2b0c3f7e-5b5f-4c9e-9b7a-1f2e3d4c5b6a"},"b_info":{"max_vcpus":1}}`)
	k, err := parseKnown(t, "[host/sysinfo]\n- error: no\n+ error: yes\nreason: r\n\n[running/*]\n- x\nreason: stale\n")
	if err != nil {
		t.Fatal(err)
	}
	n := &Normalizer{keep: map[string]bool{}}
	res, err := Compare(lv, vx, n, k)
	if err != nil {
		t.Fatal(err)
	}
	checks := res.Checks()
	for _, want := range []string{
		"CHECK PASS oracle-host: 2 sections: 1 alike, 1 with 2 listed differences\n",
		"CHECK PASS oracle-define: 1 sections: 1 alike, 0 with 0 listed differences\n",
		"  | json/g: - /b_info/max_vcpus = 2\n",
		"  | json/g: + /b_info/max_vcpus = 1\n",
		"CHECK FAIL oracle-json: 1 of 1 sections differ beyond the known differences: json/g;",
		"CHECK FAIL oracle-running: nothing compared",
	} {
		if !strings.Contains(checks, want) {
			t.Errorf("checks lack %q:\n%s", want, checks)
		}
	}
	if tr := res.TimingReport(5); !strings.Contains(tr, "host              2          6   2.75") ||
		!strings.Contains(tr, "slower by 4 ms: host/version (libvirt 2, virtxend 6)") {
		t.Errorf("timing report:\n%s", tr)
	}
	rep := res.Report()
	if !strings.Contains(rep, "- error: no\t[known:1]") || !strings.Contains(rep, "== unused entry at line 6 (running/*): stale") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestExtract(t *testing.T) {
	d := t.TempDir()
	write(t, d, "g.log", "libxl: debug: x\nDomain start: {\n    \"c_info\": {\n        \"name\": \"g}\"\n    }\n}\nlibxl: more\nDomain start: {\"second\": 1}\n")
	got, err := extractLibvirt(d)
	if err != nil {
		t.Fatal(err)
	}
	if got["g"] != "{\n    \"c_info\": {\n        \"name\": \"g}\"\n    }\n}" {
		t.Errorf("libvirt: %q", got["g"])
	}
	log := `2026-12-05 10:00:00.000+0000: 12: debug : backend.libxl: Domain start domain=vx-pv domid=3 json="{\n  \"c_info\": {}\n}"
2026-12-05 10:00:01.000+0000: 12: debug : backend.libxl: Domain start domain=vx-pv domid=4 json="{}"
2026-12-05 10:00:02.000+0000: 12: debug : backend.libxl: Domain start domain="a b" domid=5 json="{\"x\": 1}"
`
	vx, err := scanVirtxend(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if vx["vx-pv"] != "{\n  \"c_info\": {}\n}" || vx["a b"] != `{"x": 1}` || len(vx) != 2 {
		t.Errorf("virtxend: %q", vx)
	}
}

func TestSparse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "img")
	data := make([]byte, 5*64<<10+100)
	copy(data[64<<10+7:], "not zero")
	data[len(data)-1] = 1
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sparse(p); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("sparse changed the file's contents")
	}
}
