// Package procfile is the format of the data file between genprocs'
// two steps: what libvirt's source says about each procedure of the remote
// program, extracted once (genprocs extract, which needs libvirt's source)
// and committed, then rendered into Go (genprocs render, which does not).
//
// The file is line based. Lines starting with # are comments. The first
// other line is "libvirt VERSION". Every further line is one procedure:
//
//	NUMBER NAME [fact ...]
//
// with its facts in this order, each omitted when it does not hold:
//
//	message            an event message the daemon sends (struct remote_NAME_msg); never called
//	args, ret          remote_protocol.x defines remote_NAME_args, remote_NAME_ret
//	high               @priority: high
//	stream=read|write  @readstream or @writestream
//	noauth             callable before authentication (remote_daemon.c, needAuth = false)
//	preopen            callable before CONNECT_OPEN
//	driver=D           the driver that serves it: hypervisor, interface, network,
//	                   nodedev, nwfilter, secret or storage
//	api=F              the libvirt entry point the daemon's dispatcher calls: it
//	                   reports "this function is not supported by the connection
//	                   driver: F" and the read-only refusals
//	errors=NAME:N      VIR_FROM_THIS of the file defining F, with its value: the
//	                   error domain of those errors
//	ro=deny            F refuses read-only connections (virCheckReadOnlyGoto)
//	ro=P&MASK          ... when argument P has a bit of MASK set
//	ro=P==VALUE        ... when argument P equals VALUE
//	ro-msg="TEXT"      the refusal's text when it is not "read only access prevents F"
package procfile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Header is the comment genprocs extract writes at the top of the file.
const Header = `The procedures of libvirt's remote program (REMOTE_PROGRAM 0x20008086),
as libvirt's source states them. Written by "go run ./tools/genprocs extract";
do not edit: see tools/genprocs/procfile for the format and
tools/genprocs/extract for where each fact comes from.`

// File is the data file: a libvirt version and its procedures in number
// order.
type File struct {
	Version string
	Procs   []Proc
}

// Proc is one procedure of the remote program.
type Proc struct {
	Number  uint32
	Name    string // REMOTE_PROC_ without the prefix, e.g. DOMAIN_SUSPEND
	Message bool
	Args    bool
	Ret     bool
	High    bool
	Stream  string // "", "read" or "write"
	NoAuth  bool
	PreOpen bool
	Driver  string
	API     string
	Errors  ErrorDomain
	RO      ReadOnly
}

// ErrorDomain is one of libvirt's virErrorDomain values.
type ErrorDomain struct {
	Name  string // e.g. DOMAIN for VIR_FROM_DOMAIN
	Value int
}

// ReadOnly is what the entry point does on a read-only connection. The
// zero value allows the call.
type ReadOnly struct {
	Deny bool
	// When, if set, limits the refusal to calls where it holds.
	When *Cond
	// Message replaces "read only access prevents API".
	Message string
}

// Cond is a test of one argument: Param&Value != 0, or Param == Value.
type Cond struct {
	Param string // the argument's name in the C API and remote_protocol.x
	Op    string // "&" or "=="
	Value uint64
}

func (c Cond) String() string {
	if c.Op == "&" {
		return fmt.Sprintf("%s&%#x", c.Param, c.Value)
	}
	return fmt.Sprintf("%s==%d", c.Param, c.Value)
}

// Write writes f with a header comment.
func Write(w io.Writer, f *File, header string) error {
	bw := bufio.NewWriter(w)
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		fmt.Fprintf(bw, "# %s\n", line)
	}
	fmt.Fprintf(bw, "libvirt %s\n", f.Version)
	for _, p := range f.Procs {
		fmt.Fprintln(bw, strings.Join(p.fields(), " "))
	}
	return bw.Flush()
}

// fields are p's line, in the documented order.
func (p Proc) fields() []string {
	out := []string{strconv.FormatUint(uint64(p.Number), 10), p.Name}
	flag := func(on bool, s string) {
		if on {
			out = append(out, s)
		}
	}
	value := func(key, v string) {
		if v != "" {
			out = append(out, key+"="+v)
		}
	}
	flag(p.Message, "message")
	flag(p.Args, "args")
	flag(p.Ret, "ret")
	flag(p.High, "high")
	value("stream", p.Stream)
	flag(p.NoAuth, "noauth")
	flag(p.PreOpen, "preopen")
	value("driver", p.Driver)
	value("api", p.API)
	if p.Errors.Name != "" {
		value("errors", fmt.Sprintf("%s:%d", p.Errors.Name, p.Errors.Value))
	}
	switch {
	case p.RO.When != nil:
		value("ro", p.RO.When.String())
	case p.RO.Deny:
		value("ro", "deny")
	}
	if p.RO.Message != "" {
		value("ro-msg", strconv.Quote(p.RO.Message))
	}
	return out
}

// Parse reads a data file.
func Parse(r io.Reader) (*File, error) {
	f := &File{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := f.parseLine(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if f.Version == "" {
		return nil, fmt.Errorf("no libvirt version line")
	}
	return f, nil
}

func (f *File) parseLine(line string) error {
	if f.Version == "" {
		v, ok := strings.CutPrefix(line, "libvirt ")
		if !ok {
			return fmt.Errorf("want \"libvirt VERSION\" first, got %q", line)
		}
		f.Version = strings.TrimSpace(v)
		return nil
	}
	p, err := parseProc(line)
	if err != nil {
		return err
	}
	if k := len(f.Procs); k > 0 && f.Procs[k-1].Number >= p.Number {
		return fmt.Errorf("procedure %d after %d: want number order", p.Number, f.Procs[k-1].Number)
	}
	f.Procs = append(f.Procs, p)
	return nil
}

func parseProc(line string) (Proc, error) {
	words, err := splitFields(line)
	if err != nil {
		return Proc{}, err
	}
	if len(words) < 2 {
		return Proc{}, fmt.Errorf("want NUMBER NAME, got %q", line)
	}
	num, err := strconv.ParseUint(words[0], 10, 32)
	if err != nil {
		return Proc{}, fmt.Errorf("procedure number: %w", err)
	}
	p := Proc{Number: uint32(num), Name: words[1]}
	for _, w := range words[2:] {
		if err := p.set(w); err != nil {
			return Proc{}, fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return p, nil
}

// set applies one fact.
func (p *Proc) set(word string) error {
	key, val, hasVal := strings.Cut(word, "=")
	flags := map[string]*bool{"message": &p.Message, "args": &p.Args, "ret": &p.Ret, "high": &p.High,
		"noauth": &p.NoAuth, "preopen": &p.PreOpen}
	if b, ok := flags[key]; ok && !hasVal {
		*b = true
		return nil
	}
	var err error
	switch key {
	case "stream":
		if val != "read" && val != "write" {
			return fmt.Errorf("stream=%q: want read or write", val)
		}
		p.Stream = val
	case "driver":
		p.Driver = val
	case "api":
		p.API = val
	case "errors":
		p.Errors, err = parseErrorDomain(val)
	case "ro":
		err = p.RO.parseRule(val)
	case "ro-msg":
		p.RO.Message, err = strconv.Unquote(val)
	default:
		return fmt.Errorf("unknown fact %q", word)
	}
	return err
}

func parseErrorDomain(s string) (ErrorDomain, error) {
	name, num, ok := strings.Cut(s, ":")
	v, err := strconv.Atoi(num)
	if !ok || name == "" || err != nil {
		return ErrorDomain{}, fmt.Errorf("errors=%q: want NAME:NUMBER", s)
	}
	return ErrorDomain{Name: name, Value: v}, nil
}

func (r *ReadOnly) parseRule(s string) error {
	r.Deny = true
	if s == "deny" {
		return nil
	}
	op := "&"
	param, val, ok := strings.Cut(s, "&")
	if !ok {
		op = "=="
		param, val, ok = strings.Cut(s, "==")
	}
	v, err := strconv.ParseUint(val, 0, 64)
	if !ok || param == "" || err != nil {
		return fmt.Errorf("ro=%q: want deny, PARAM&MASK or PARAM==VALUE", s)
	}
	r.When = &Cond{Param: param, Op: op, Value: v}
	return nil
}

// splitFields splits a line at spaces, keeping a quoted value (key="a b")
// in one field.
func splitFields(line string) ([]string, error) {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		end := strings.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		if eq := strings.Index(line[:end], `="`); eq >= 0 {
			q, err := strconv.QuotedPrefix(line[eq+1:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted value in %q", line)
			}
			end = eq + 1 + len(q)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
	return out, nil
}
