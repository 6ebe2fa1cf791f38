package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"virtxend/tools/genprocs/procfile"
)

// srcEnv names a libvirt source tree to re-run the extract step on.
const srcEnv = "VIRTXEND_LIBVIRT_SRC"

// TestDataFileIsExtracted re-runs the extract step on the libvirt source
// named by $VIRTXEND_LIBVIRT_SRC (e.g. Debian's, from apt-get source
// libvirt) and compares with the committed data file for that version.
// Without the variable it is skipped: building never needs libvirt's
// source.
func TestDataFileIsExtracted(t *testing.T) {
	dir := os.Getenv(srcEnv)
	if dir == "" {
		t.Skipf("set %s to a libvirt source tree to check the data file", srcEnv)
	}
	f, err := Extract(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := procfile.Write(&b, f, procfile.Header); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("..", "libvirt-"+f.Version+".procs")
	committed, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("no data file for libvirt %s: %v", f.Version, err)
	}
	if !bytes.Equal(committed, b.Bytes()) {
		t.Fatalf("%s is not what libvirt %s says: run go run ./tools/genprocs extract -libvirt %s -o %s",
			name, f.Version, dir, strings.TrimPrefix(name, "../"))
	}
}

func TestSplitDefs(t *testing.T) {
	src := stripComments(`/* a comment with foo( */
static int remoteDispatchA(virNetServer *server,
                           int x)
{
    return remoteGetConn(x); // not bar(
}

int
virDomainB(virDomainPtr dom)
{
    return 0;
}

static int proto(int x);

static virCallback callbacks[] = {
    VIR_CB(relayC),
};
`)
	defs := splitDefs(src)
	if len(defs) != 3 || !strings.Contains(defs["remoteDispatchA"], "remoteGetConn") ||
		!strings.Contains(defs["virDomainB"], "return 0") || !strings.Contains(defs["callbacks"], "relayC") {
		t.Fatalf("defs: %q", defs)
	}
	if got := calls(defs["remoteDispatchA"]); !reflect.DeepEqual(got, []string{"remoteGetConn"}) {
		t.Errorf("calls: %v", got)
	}
}

func TestConsts(t *testing.T) {
	c := &consts{expr: map[string]string{}, value: map[string]uint64{}}
	c.addEnum(`
    VIR_A = 0,
    VIR_B,
# ifdef X
    VIR_C = (1 << 3),
# endif
    VIR_D = VIR_A | VIR_C,
    VIR_E = 0x10`)
	for expr, want := range map[string]uint64{"VIR_B": 1, "VIR_C": 8, "VIR_D": 8, "VIR_E": 16, "(VIR_B | VIR_C)": 9} {
		if got, err := c.eval(expr); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", expr, got, err, want)
		}
	}
	if _, err := c.eval("VIR_NOPE"); err == nil {
		t.Error("an unknown constant evaluated")
	}
}

func TestReadOnlyRules(t *testing.T) {
	c := &consts{expr: map[string]string{"VIR_S": "1 << 0", "VIR_M": "1 << 3", "VIR_AGENT": "1"}, value: map[string]uint64{}}
	for _, tc := range []struct {
		body string
		want procfile.ReadOnly
	}{
		{"    virCheckDomainReturn(d, -1);\n    virCheckReadOnlyGoto(d->conn->flags, error);\n", procfile.ReadOnly{Deny: true}},
		{"    conn = d->conn;\n\n    virCheckReadOnlyGoto(conn->flags, error);\n", procfile.ReadOnly{Deny: true}},
		{"    if (flags & VIR_M)\n        virCheckReadOnlyGoto(conn->flags, error);\n",
			procfile.ReadOnly{Deny: true, When: &procfile.Cond{Param: "flags", Op: "&", Value: 8}}},
		{"    if (source == VIR_AGENT)\n        virCheckReadOnlyGoto(conn->flags, error);\n",
			procfile.ReadOnly{Deny: true, When: &procfile.Cond{Param: "source", Op: "==", Value: 1}}},
		{"    if ((conn->flags & VIR_CONNECT_RO) &&\n        (flags & (VIR_S | VIR_M))) {\n" +
			"        virReportError(VIR_ERR_OPERATION_DENIED, \"%s\",\n                       _(\"virX with secure flag\"));\n        goto error;\n    }\n",
			procfile.ReadOnly{Deny: true, When: &procfile.Cond{Param: "flags", Op: "&", Value: 9}, Message: "virX with secure flag"}},
		{"    return 0;\n", procfile.ReadOnly{}},
	} {
		got, err := (&entry{body: tc.body}).readOnly("virX", c)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v %v, want %+v", tc.body, got, err, tc.want)
		}
	}
	for _, body := range []string{
		"    if (flags & VIR_M) {\n        virCheckReadOnlyGoto(conn->flags, error);\n    }\n", // a block: not understood
		"    if (conn->flags & VIR_CONNECT_RO)\n        goto error;\n",                         // an unknown use
		"    if (flags & VIR_NOPE)\n        virCheckReadOnlyGoto(conn->flags, error);\n",       // an unknown constant
	} {
		if got, err := (&entry{body: body}).readOnly("virX", c); err == nil {
			t.Errorf("%q: understood as %+v", body, got)
		}
	}
}

func TestProtocolAnnotations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "remote_protocol.x")
	os.WriteFile(path, []byte(`struct remote_domain_open_console_args { int x; };
struct remote_domain_event_lifecycle_msg { int x; };
enum remote_procedure {
    /**
     * @generate: both
     * @priority: high
     */
    REMOTE_PROC_CONNECT_OPEN = 1,
    /**
     * @generate: none
     * @readstream: 2
     */
    REMOTE_PROC_DOMAIN_OPEN_CONSOLE = 2,
    /**
     * @generate: both
     */
    REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE = 3
};
`), 0o644)
	procs, err := readProtocol(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []xproc{
		{num: 1, name: "CONNECT_OPEN", generate: "both", high: true},
		{num: 2, name: "DOMAIN_OPEN_CONSOLE", generate: "none", stream: "read", args: true},
		{num: 3, name: "DOMAIN_EVENT_LIFECYCLE", generate: "both", message: true},
	}
	if !reflect.DeepEqual(procs, want) {
		t.Errorf("got %+v\nwant %+v", procs, want)
	}
}
