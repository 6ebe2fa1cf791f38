package virconf

import (
	"bytes"
	"math"
)

// maxListDepth bounds list nesting so that hostile input cannot exhaust
// the stack; libvirt has no limit, but no real file nests at all.
const maxListDepth = 32

// Parse parses data, naming path in errors. Errors are *Error.
func Parse(path string, data []byte) (*File, error) {
	p := &parser{path: path, data: data, line: 1}
	f := &File{Path: path}
	for p.pos < len(p.data) {
		e, ok, err := p.statement()
		if err != nil {
			return nil, err
		}
		if ok {
			f.Entries = append(f.Entries, e)
		}
		if err := p.separator(); err != nil {
			return nil, err
		}
		p.key = ""
	}
	return f, nil
}

type parser struct {
	path string
	data []byte
	pos  int
	line int
	key  string // the statement being parsed, for errors
}

func (p *parser) fail(msg string) error {
	return &Error{Path: p.path, Line: p.line, Key: p.key, Msg: msg}
}

func (p *parser) atEnd() bool { return p.pos >= len(p.data) }

// cur returns the current byte, or 0 at the end (as libvirt's buffers
// are NUL-terminated).
func (p *parser) cur() byte {
	if p.atEnd() {
		return 0
	}
	return p.data[p.pos]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
func isEOL(c byte) bool   { return c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *parser) skipBlanks() {
	for !p.atEnd() && isBlank(p.cur()) {
		p.pos++
	}
}

// skipBlanksAndEOL also crosses line ends, counting lines on '\n' only
// (a lone '\r' ends a line for the syntax but not for the count, as in
// libvirt).
func (p *parser) skipBlanksAndEOL() {
	for !p.atEnd() && (isBlank(p.cur()) || isEOL(p.cur())) {
		if p.cur() == '\n' {
			p.line++
		}
		p.pos++
	}
}

// skipComment moves to the end of the line (not past it).
func (p *parser) skipComment() {
	for !p.atEnd() && !isEOL(p.cur()) {
		p.pos++
	}
}

// statement parses a comment (ok false) or one `key = value`.
func (p *parser) statement() (Entry, bool, error) {
	p.skipBlanksAndEOL()
	if p.atEnd() {
		return Entry{}, false, nil // blanks only: libvirt says "expecting a name"
	}
	if p.cur() == '#' {
		p.skipComment()
		return Entry{}, false, nil
	}
	line := p.line
	name, err := p.name()
	if err != nil {
		return Entry{}, false, err
	}
	p.key = name
	p.skipBlanks()
	if p.cur() != '=' {
		return Entry{}, false, p.fail("expecting an assignment")
	}
	p.pos++
	v, err := p.value(0)
	if err != nil {
		return Entry{}, false, err
	}
	p.skipBlanks()
	if p.cur() == '#' {
		p.skipComment()
	}
	return Entry{Key: name, Line: line, Value: v}, true, nil
}

// name parses a key: an ASCII letter, then letters, digits and '_'.
func (p *parser) name() (string, error) {
	p.skipBlanks()
	if !isAlpha(p.cur()) {
		return "", p.fail("expecting a name")
	}
	start := p.pos
	for !p.atEnd() && (isAlpha(p.cur()) || isDigit(p.cur()) || p.cur() == '_') {
		p.pos++
	}
	return string(p.data[start:p.pos]), nil
}

// separator ends a statement: a line end, ';', or the end of the data.
func (p *parser) separator() error {
	p.skipBlanks()
	switch {
	case p.atEnd():
		return nil
	case isEOL(p.cur()):
		p.skipBlanksAndEOL()
	case p.cur() == ';':
		p.pos++
		p.skipBlanksAndEOL()
	default:
		return p.fail("expecting a separator")
	}
	return nil
}

func (p *parser) value(depth int) (Value, error) {
	p.skipBlanks()
	v := Value{Line: p.line}
	c := p.cur()
	switch {
	case p.atEnd():
		return v, p.fail("expecting a value")
	case c == '"' || c == '\'':
		s, err := p.str()
		v.Kind, v.Str = String, s
		return v, err
	case c == '[':
		l, err := p.list(depth + 1)
		v.Kind, v.List = List, l
		return v, err
	case isDigit(c) || c == '-' || c == '+':
		n, signed, err := p.number()
		v.Kind, v.Int, v.Signed = Int, n, signed
		return v, err
	}
	return v, p.fail("expecting a value")
}

// str parses 'x', "x" or """x""". The first two end at the line; none
// has escapes.
func (p *parser) str() (string, error) {
	rest := p.data[p.pos:]
	// libvirt only looks for the triple quote when more than six bytes
	// remain, so a bare `""""""` at the very end is `""` then junk.
	if len(rest) > 6 && bytes.HasPrefix(rest, []byte(`"""`)) {
		body := rest[3:]
		end := bytes.Index(body, []byte(`"""`))
		if end < 0 {
			p.line += bytes.Count(body[:max(0, len(body)-2)], []byte("\n"))
			p.pos = len(p.data)
			return "", p.fail("unterminated string")
		}
		p.line += bytes.Count(body[:end], []byte("\n"))
		p.pos += 3 + end + 3
		return string(body[:end]), nil
	}
	quote := rest[0]
	end := 1
	for end < len(rest) && rest[end] != quote && !isEOL(rest[end]) {
		end++
	}
	p.pos += end
	if end == len(rest) || rest[end] != quote {
		return "", p.fail("unterminated string")
	}
	p.pos++
	return string(rest[1:end]), nil
}

// number parses an optionally signed decimal integer.
func (p *parser) number() (n int64, signed bool, err error) {
	switch p.cur() {
	case '-':
		signed = true
		p.pos++
	case '+':
		p.pos++
	}
	if !isDigit(p.cur()) {
		return 0, signed, p.fail("unterminated number")
	}
	limit := uint64(math.MaxInt64)
	if signed {
		limit++ // math.MinInt64 has no positive twin
	}
	var mag uint64
	for !p.atEnd() && isDigit(p.cur()) {
		d := uint64(p.cur() - '0')
		if mag > (limit-d)/10 {
			return 0, signed, p.fail("integer out of range")
		}
		mag = mag*10 + d
		p.pos++
	}
	if signed {
		return int64(-mag), true, nil // wraps correctly for MinInt64
	}
	return int64(mag), false, nil
}

// skipListFill skips what may sit between list items: blanks, line ends
// and (unlike libvirt) comments.
func (p *parser) skipListFill() {
	for {
		p.skipBlanksAndEOL()
		if p.cur() != '#' {
			return
		}
		p.skipComment()
	}
}

func (p *parser) list(depth int) ([]Value, error) {
	if depth > maxListDepth {
		return nil, p.fail("lists nested too deeply")
	}
	p.pos++ // '['
	items := []Value{}
	p.skipListFill()
	for !p.atEnd() && p.cur() != ']' {
		if len(items) > 0 {
			if p.cur() != ',' {
				return nil, p.fail("expecting a separator in list")
			}
			p.pos++
			p.skipListFill()
			if p.cur() == ']' {
				break // trailing comma
			}
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.skipListFill()
	}
	if p.cur() != ']' {
		return nil, p.fail("list is not closed with ]")
	}
	p.pos++
	return items, nil
}
