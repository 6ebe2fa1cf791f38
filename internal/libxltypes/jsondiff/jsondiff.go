// Package jsondiff compares libxl_domain_config JSON documents by meaning,
// for tests: of the translation against libvirt's expected JSON, and of
// our JSON against what libxl's own reader makes of it.
package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// libxl's JSON is not canonical: libxl omits fields at their default, the
// fixtures spell defbools "True"/"False" and plain bools true/false, and
// a keyed union appears as the member key ("type.hvm") next to, or
// instead of, its key ("type"). Normalize brings a document to one
// form so that two configurations libxl would read alike compare equal.

// keyDefaults are the values libxl treats as "not set" for a key, beyond
// the zero values (0, "", false, empty lists and objects).
var keyDefaults = map[string][]any{
	"devid":       {float64(-1)},
	"ctrl":        {float64(-1)},
	"rdm_policy":  {"invalid", ""},
	"on_poweroff": {"destroy", ""},
	"on_reboot":   {"destroy", ""},
	"on_crash":    {"destroy", ""},
	"on_watchdog": {"destroy", ""},
	"tsc_mode":    {"default", ""},
	"bios":        {"unknown", ""},
	"backend":     {"unknown", ""},
	"format":      {"unknown", ""},
}

// Normalize reads a document into libxl's one meaning of it: defaults
// dropped, bools as defbools, redundant union keys removed.
func Normalize(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	n, _ := normalize(v)
	return n, nil
}

// normalize returns the normalised value and whether it is a default
// (and so to be dropped by its parent object).
func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			n, isDefault := normalize(val)
			if defs, ok := keyDefaults[k]; ok {
				// The key's own defaults replace the zero value's.
				isDefault = isOneOf(n, defs)
			}
			if strings.Contains(k, ".") && n != nil {
				// A union member: present even when empty, it says
				// which member ("connection.pty": {}).
				isDefault = false
			}
			if isDefault || n == nil {
				continue
			}
			out[k] = n
		}
		dropRedundantUnionKeys(out)
		// libxl writes a CPUID policy as {"cpuid": [...]} (with "msr"
		// beside it when there are MSRs) and also reads a bare list.
		if p, ok := out["cpuid"].(map[string]any); ok && len(p) == 1 && p["cpuid"] != nil {
			out["cpuid"] = p["cpuid"]
		}
		return out, len(out) == 0
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			n, _ := normalize(e)
			out = append(out, n)
		}
		return out, len(out) == 0
	case bool:
		if !x {
			return nil, true
		}
		return "True", false
	case string:
		return x, x == ""
	case float64:
		return x, x == 0
	case nil:
		return nil, true
	}
	return v, false
}

func isOneOf(v any, defs []any) bool {
	for _, d := range defs {
		if v == d {
			return true
		}
	}
	return false
}

// dropRedundantUnionKeys removes "type": "hvm" when "type.hvm" is there.
func dropRedundantUnionKeys(m map[string]any) {
	for k := range m {
		key, member, ok := strings.Cut(k, ".")
		if !ok {
			continue
		}
		if s, isStr := m[key].(string); isStr && s == member {
			delete(m, key)
		}
	}
}

// Diff lists the differences between two normalised documents, one line
// per path.
func Diff(want, got any) []string {
	var out []string
	for _, d := range Differences(want, got) {
		out = append(out, fmt.Sprintf("%s: want %s, got %s", d.Path, d.WantJSON, d.GotJSON))
	}
	return out
}

// Difference is one path at which two normalised documents differ: each
// side's value there (nil where it has none) and that value as JSON.
type Difference struct {
	Path              string
	Want, Got         any
	WantJSON, GotJSON []byte
}

// Differences lists where two normalised documents differ: objects key by
// key in key order, lists of one length item by item, anything else whole.
func Differences(want, got any) []Difference {
	var out []Difference
	diffAt("", want, got, &out)
	return out
}

func diffAt(path string, want, got any, out *[]Difference) {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffAt(path+"/"+k, wm[k], gm[k], out)
		}
		return
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok && len(wl) == len(gl) {
		for i := range wl {
			diffAt(fmt.Sprintf("%s[%d]", path, i), wl[i], gl[i], out)
		}
		return
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		*out = append(*out, Difference{Path: path, Want: want, Got: got, WantJSON: wj, GotJSON: gj})
	}
}
