package logging

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filter gives every module whose name matches Match a minimum priority.
// Match is a glob (GLib's g_pattern_match_simple: '*' and '?') that may
// match anywhere in the module name, as libvirt wraps it in '*'.
type Filter struct {
	Priority Priority
	Match    string // without the wrapping '*', and without a leading '+'
}

// String is the filter as libvirt's virLogGetFilters prints it, e.g.
// "1:*rpc*"; the wrapping stars are part of libvirt's stored pattern.
func (f Filter) String() string {
	return strconv.Itoa(int(f.Priority)) + ":*" + f.Match + "*"
}

// matches reports whether module falls under f.
func (f Filter) matches(module string) bool {
	return globMatch("*"+f.Match+"*", module)
}

// ParseFilters parses libvirt's log_filters syntax: space-separated
// "LEVEL:MATCH" items, where a leading '+' on MATCH (once: print a stack
// trace) is accepted and dropped. Empty items are skipped, so "" and "  "
// give no filters. Duplicates are kept, as libvirt does.
func ParseFilters(s string) ([]Filter, error) {
	var list []Filter
	for _, item := range strings.Split(s, " ") {
		if item == "" {
			continue
		}
		f, err := parseFilter(item)
		if err != nil {
			return nil, err
		}
		list = append(list, f)
	}
	return list, nil
}

// parseFilter parses one item; like libvirt, anything after a second ':'
// is ignored ("1:foo:bar" filters "foo").
func parseFilter(item string) (Filter, error) {
	tokens := strings.Split(item, ":")
	if len(tokens) < 2 {
		return Filter{}, invalidArg("Malformed format for filter '%s'", item)
	}
	prio, ok := parsePriorityNumber(tokens[0])
	if !ok || !prio.valid() {
		return Filter{}, invalidArg("Invalid priority '%s' for filter '%s'", tokens[0], item)
	}
	match := strings.TrimPrefix(tokens[1], "+")
	if match == "" {
		return Filter{}, invalidArg("Invalid match string '%s'", tokens[1])
	}
	return Filter{Priority: prio, Match: match}, nil
}

// FormatFilters prints filters as libvirt's virLogGetFilters: each one
// followed by a space, so "1:rpc" reads back as "1:*rpc* ", and no
// filters read back as "".
func FormatFilters(list []Filter) string {
	var b strings.Builder
	for _, f := range list {
		b.WriteString(f.String())
		b.WriteByte(' ')
	}
	return b.String()
}

// filterPriority is the minimum priority for module: the first matching
// filter's, else def.
func filterPriority(list []Filter, module string, def Priority) Priority {
	for _, f := range list {
		if f.matches(module) {
			return f.Priority
		}
	}
	return def
}

// globMatch is g_pattern_match_simple: '*' matches any run of characters,
// '?' exactly one character; there is no escape.
func globMatch(pattern, name string) bool {
	// Classic two-pointer wildcard matching with backtracking to the last
	// '*'; linear in practice, never exponential.
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(name) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starN = p, n
				p++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(name[n:])
				p++
				n += w
				continue
			default:
				if pattern[p] == name[n] {
					p++
					n++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(name[starN:])
		starN += w
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
