package jsondiff

import "testing"

func TestNormalizeJSON(t *testing.T) {
	cases := []struct {
		name      string
		a, b      string
		wantEqual bool
	}{
		{"defaults dropped", `{"a":0,"b":"","c":{},"d":[],"e":false,"devid":-1,"on_crash":"destroy"}`, `{}`, true},
		{"defbool kept", `{"vnc":{"enable":"False"}}`, `{}`, false},
		{"plain bool as defbool", `{"permissive":true}`, `{"permissive":"True"}`, true},
		{"union key", `{"type":"hvm","type.hvm":{"pae":"True"}}`, `{"type.hvm":{"pae":"True"}}`, true},
		{"value differs", `{"max_memkb":1}`, `{"max_memkb":2}`, false},
		{"list order matters", `{"l":[1,2]}`, `{"l":[2,1]}`, false},
		{"nested default", `{"b_info":{"sched_params":{},"arch_arm":{}}}`, `{}`, true},
		{"devid 0 kept", `{"nics":[{"devid":0}]}`, `{"nics":[{}]}`, false},
		{"empty union member kept", `{"channels":[{"connection.pty":{}}]}`, `{"channels":[{"connection.unknown":{}}]}`, false},
		{"cpuid object form", `{"cpuid":{"cpuid":[{"leaf":1}]}}`, `{"cpuid":[{"leaf":1}]}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Normalize([]byte(c.a))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Normalize([]byte(c.b))
			if err != nil {
				t.Fatal(err)
			}
			diff := Diff(a, b)
			if (len(diff) == 0) != c.wantEqual {
				t.Errorf("equal = %v, want %v (diff %v)", len(diff) == 0, c.wantEqual, diff)
			}
		})
	}
}
