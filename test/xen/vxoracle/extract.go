package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// extractCmd writes each guest's first "Domain start" JSON found by fn in the source
// (a directory or a file) to OUTDIR/NAME.json.
func extractCmd(args []string, fn func(src string) (map[string]string, error)) error {
	if len(args) != 2 {
		usage()
	}
	got, err := fn(args[0])
	if err != nil {
		return err
	}
	if err := os.MkdirAll(args[1], 0o755); err != nil {
		return err
	}
	for name, js := range got {
		if err := os.WriteFile(filepath.Join(args[1], name+".json"), []byte(js+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("vxoracle: %d guests' libxl JSON from %s\n", len(got), args[0])
	return nil
}

// extractLibvirt reads libvirt's per-domain libxl logs (/var/log/libvirt/libxl/NAME.log):
// at each start libvirt's libxl driver writes "Domain start: " and the configuration as
// libxl completed it, libxl_domain_config_to_json's multi-line JSON (libxlLoggerOpenFile).
func extractLibvirt(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		text := string(b)
		i := strings.Index(text, "Domain start: ")
		if i < 0 {
			continue
		}
		js, ok := balanced(text[i+len("Domain start: "):])
		if !ok {
			return nil, fmt.Errorf("%s: the JSON after \"Domain start: \" does not end", f)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".log")] = js
	}
	return out, nil
}

// balanced is the JSON object at the start of s, up to its closing brace.
func balanced(s string) (string, bool) {
	depth, inStr, esc := 0, false, false
	for i, c := range []byte(s) {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return s[:i+1], true
			}
		}
	}
	return "", false
}

// extractVirtxend reads virtxend's log for the backend's debug records
// "backend.libxl: Domain start domain=NAME domid=N json=\"...\"".
func extractVirtxend(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scanVirtxend(f)
}

func scanVirtxend(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for sc.Scan() {
		l := sc.Text()
		i := strings.Index(l, ": Domain start domain=")
		if i < 0 {
			continue
		}
		rest := l[i+len(": Domain start "):]
		attrs, err := parseAttrs(rest)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", l, err)
		}
		name := attrs["domain"]
		if _, seen := out[name]; !seen && name != "" {
			out[name] = attrs["json"]
		}
	}
	return out, sc.Err()
}

// parseAttrs reads the daemon's key=value attributes, values quoted as strconv.Quote does
// when they hold blanks, quotes or '='.
func parseAttrs(s string) (map[string]string, error) {
	m := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("no '=' in %q", s)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, err
			}
			if v, err = strconv.Unquote(q); err != nil {
				return nil, err
			}
			rest = rest[len(q):]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		m[k] = v
		s = rest
	}
	return m, nil
}
