package extract

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// consts are the enum constants of libvirt's public headers
// (include/libvirt/*.h), evaluated on demand: VIR_DOMAIN_XML_SECURE,
// VIR_FROM_DOMAIN, ...
type consts struct {
	expr  map[string]string // name → its C expression
	value map[string]uint64
}

var (
	enumBlock = regexp.MustCompile(`(?s)\benum\s*\w*\s*\{(.*?)\}`)
	enumEntry = regexp.MustCompile(`^\s*([A-Z_][A-Z0-9_]*)\s*(?:=\s*(.+?))?\s*$`)
)

// readConsts reads every enum of the headers in dir.
func readConsts(dir string) (*consts, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.h"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no headers in %s", dir)
	}
	c := &consts{expr: map[string]string{}, value: map[string]uint64{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range enumBlock.FindAllStringSubmatch(stripComments(string(b)), -1) {
			c.addEnum(m[1])
		}
	}
	return c, nil
}

// addEnum records one enum's entries; an entry without a value is the
// previous one plus one, as in C.
func (c *consts) addEnum(body string) {
	prev := ""
	for _, entry := range strings.Split(body, ",") {
		lines := []string{}
		for _, l := range strings.Split(entry, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, l)
			}
		}
		m := enumEntry.FindStringSubmatch(strings.Join(lines, " "))
		if m == nil {
			continue
		}
		switch {
		case m[2] != "":
			c.expr[m[1]] = m[2]
		case prev == "":
			c.expr[m[1]] = "0"
		default:
			c.expr[m[1]] = prev + " + 1"
		}
		prev = m[1]
	}
}

// eval is the value of a C constant expression over these constants:
// numbers, names, parentheses, +, << and |.
func (c *consts) eval(expr string) (uint64, error) {
	p := &exprParser{toks: tokenize(expr), c: c}
	v, err := p.or()
	if err == nil && p.pos != len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return 0, fmt.Errorf("%q: %w", expr, err)
	}
	return v, nil
}

// lookup evaluates a named constant.
func (c *consts) lookup(name string) (uint64, error) {
	if v, ok := c.value[name]; ok {
		return v, nil
	}
	e, ok := c.expr[name]
	if !ok {
		return 0, fmt.Errorf("unknown constant %s", name)
	}
	delete(c.expr, name) // a cycle now fails as unknown
	v, err := c.eval(e)
	c.expr[name] = e
	if err != nil {
		return 0, err
	}
	c.value[name] = v
	return v, nil
}

var token = regexp.MustCompile(`0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|\S`)

func tokenize(s string) []string { return token.FindAllString(s, -1) }

type exprParser struct {
	toks []string
	pos  int
	c    *consts
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) or() (uint64, error) {
	return p.binary("|", p.shift, func(a, b uint64) uint64 { return a | b })
}

func (p *exprParser) shift() (uint64, error) {
	return p.binary("<<", p.sum, func(a, b uint64) uint64 { return a << b })
}

func (p *exprParser) sum() (uint64, error) {
	return p.binary("+", p.primary, func(a, b uint64) uint64 { return a + b })
}

// binary parses operands joined by the left-associative operator op.
func (p *exprParser) binary(op string, operand func() (uint64, error), apply func(a, b uint64) uint64) (uint64, error) {
	v, err := operand()
	for err == nil && p.peek() == op {
		p.pos++
		var w uint64
		w, err = operand()
		v = apply(v, w)
	}
	return v, err
}

func (p *exprParser) primary() (uint64, error) {
	t := p.peek()
	p.pos++
	switch {
	case t == "(":
		v, err := p.or()
		if err == nil && p.peek() != ")" {
			err = fmt.Errorf("missing )")
		}
		p.pos++
		return v, err
	case t != "" && t[0] >= '0' && t[0] <= '9':
		return strconv.ParseUint(t, 0, 64)
	case t != "" && (t[0] == '_' || t[0] >= 'A' && t[0] <= 'Z' || t[0] >= 'a' && t[0] <= 'z'):
		return p.c.lookup(t)
	}
	return 0, fmt.Errorf("unexpected %q", t)
}
