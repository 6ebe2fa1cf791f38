package extract

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// cfile is one C file of libvirt's, split into its top-level definitions.
type cfile struct {
	path string
	text string            // without comments
	defs map[string]string // function or initialised array → its body
	ids  map[string]map[string]bool
}

// readC reads and splits a C file.
func readC(path string) (*cfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := stripComments(string(b))
	return &cfile{path: path, text: text, defs: splitDefs(text)}, nil
}

var (
	// a definition's first line at column 0: "name(", "type name(",
	// "static int name(" or "static T name[] = {"
	defStart = regexp.MustCompile(`^(?:[A-Za-z_][\w \*]*?[ *])?([A-Za-z_]\w*)(?:\(|\[\] = \{$)`)
	callRe   = regexp.MustCompile(`\b([A-Za-z_]\w*)\s*\(`)
	identRe  = regexp.MustCompile(`\b[A-Za-z_]\w*\b`)
	stringRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// splitDefs finds the top-level definitions by libvirt's layout (enforced
// by its syntax-check): the name at column 0, or after the return type on
// the same line, the body's braces alone at column 0 ("{" and "}" or "};"),
// or "name[] = {" opening an array. A name defined twice (#ifdef variants)
// gets both bodies.
func splitDefs(text string) map[string]string {
	defs := map[string]string{}
	var name string
	var body []string
	inBody := false
	for _, line := range strings.Split(text, "\n") {
		if inBody {
			if strings.HasPrefix(line, "}") {
				defs[name] += strings.Join(body, "\n") + "\n"
				inBody, name, body = false, "", nil
			} else {
				body = append(body, line)
			}
			continue
		}
		if m := defStart.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "typedef") {
			name = m[1]
			if strings.HasSuffix(line, "{") {
				inBody = true
				continue
			}
		}
		switch {
		case name != "" && line == "{":
			inBody = true
		case name != "" && strings.HasSuffix(strings.TrimSpace(line), ";"):
			name = "" // a declaration, not a definition
		}
	}
	return defs
}

// stripComments removes /* */ and // comments, keeping line breaks and
// string literals.
func stripComments(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '"' || src[i] == '\'':
			j := skipQuoted(src, i)
			b.WriteString(src[i:j])
			i = j - 1
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			b.WriteString(strings.Repeat("\n", strings.Count(src[i:i+2+end], "\n")))
			i += end + 3
		case strings.HasPrefix(src[i:], "//"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				return b.String()
			}
			i += end - 1
		default:
			b.WriteByte(src[i])
		}
	}
	return b.String()
}

// skipQuoted returns the index just past the literal starting at i.
func skipQuoted(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q, '\n':
			return j + 1
		}
	}
	return len(src)
}

// calls lists the functions body calls, in order, once each.
func calls(body string) []string {
	body = stringRe.ReplaceAllString(body, `""`)
	var out []string
	seen := map[string]bool{}
	for _, m := range callRe.FindAllStringSubmatch(body, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// idents is the set of identifiers body uses outside string literals.
func idents(body string) map[string]bool {
	out := map[string]bool{}
	for _, id := range identRe.FindAllString(stringRe.ReplaceAllString(body, `""`), -1) {
		out[id] = true
	}
	return out
}

// uses is the set of identifiers definition name uses.
func (f *cfile) uses(name string) map[string]bool {
	if f.ids == nil {
		f.ids = map[string]map[string]bool{}
		for n, body := range f.defs {
			f.ids[n] = idents(body)
		}
	}
	return f.ids[name]
}

// users lists the definitions that use identifier id.
func (f *cfile) users(id string) []string {
	var out []string
	for name := range f.defs {
		if f.uses(name)[id] {
			out = append(out, name)
		}
	}
	return out
}

// reverseRefs maps each definition of f to the definitions that use it.
func (f *cfile) reverseRefs() map[string][]string {
	rev := map[string][]string{}
	for name := range f.defs {
		for id := range f.uses(name) {
			if _, ok := f.defs[id]; ok && id != name {
				rev[id] = append(rev[id], name)
			}
		}
	}
	return rev
}

// reaching walks from start up the uses in rev and returns every
// definition found, stopping at (and including) those stop accepts.
func reaching(rev map[string][]string, start []string, stop func(string) bool) map[string]bool {
	seen := map[string]bool{}
	for len(start) > 0 {
		n := start[len(start)-1]
		start = start[:len(start)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		if !stop(n) {
			start = append(start, rev[n]...)
		}
	}
	return seen
}

func errorf(f *cfile, format string, args ...any) error {
	return fmt.Errorf("%s: %s", f.path, fmt.Sprintf(format, args...))
}
