package snapshot

import (
	"log/slog"
	"strings"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// ParseFlag is virDomainSnapshotParseFlags.
type ParseFlag uint32

// The parse flags, with libvirt's values.
const (
	// ParseRedefine reads a complete definition, as
	// VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE and the metadata files carry
	// it: name, state and creation time are required, the parent and
	// the domain are read.
	ParseRedefine ParseFlag = 1 << 0
	// ParseInternal reads <active>, which only the metadata file has.
	ParseInternal ParseFlag = 1 << 1
	// ParseOffline is a snapshot of a domain that is not running: no
	// memory state may be asked for.
	ParseOffline ParseFlag = 1 << 2
	// ParseValidate checks the document against libvirt's schema first
	// (VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE).
	ParseValidate ParseFlag = 1 << 3
)

// Options tune parsing.
type Options struct {
	// Domain tunes the parse of the domain definitions a snapshot
	// carries. Live and SkipValidate are overridden: libvirt parses them
	// as inactive definitions, unvalidated.
	Domain domxml.Options
	// Now is the clock that dates a new snapshot (and names it when no
	// name is given); nil means time.Now.
	Now func() time.Time
	// PostParse replaces that dating and naming of a new snapshot, as a
	// driver's moment post-parse callback replaces libvirt's
	// (virDomainXMLOptionSetMomentPostParse); libvirt's tests use it to
	// fix the time.
	PostParse func(*Def) error
	// Log receives libvirt's warnings (an old snapshot without its
	// domain); nil discards them.
	Log *slog.Logger
}

// docName is what libvirt calls a snapshot document in its errors.
const docName = "(domain_snapshot)"

// Parse is virDomainSnapshotDefParseString: it reads a snapshot document
// with libvirt's checks and defaults. Errors are libvirt's.
func Parse(doc string, flags ParseFlag) (*Def, error) {
	def, _, err := ParseWith(doc, flags, Options{})
	return def, err
}

// ParseMetadata reads a metadata file as FormatMetadata writes it (the
// flags a driver loads its snapshots with), and whether it was the
// current snapshot.
func ParseMetadata(doc string, o Options) (*Def, bool, error) {
	return ParseWith(doc, ParseRedefine|ParseInternal, o)
}

// ParseWith is Parse with options; current is <active>, read only with
// ParseInternal.
func ParseWith(doc string, flags ParseFlag, o Options) (def *Def, current bool, err error) {
	root, err := readDocument(doc)
	if err != nil {
		return nil, false, err
	}
	if flags&ParseValidate != 0 {
		if err := validateSchema(root); err != nil {
			return nil, false, err
		}
	}
	p := &parser{flags: flags, o: o, root: root, offline: flags&ParseOffline != 0}
	def, err = p.parse()
	if err != nil {
		return nil, false, err
	}
	return def, p.current, nil
}

// readDocument is virXMLParseWithIndent for a snapshot: a document that
// is not well formed is reported from VIR_FROM_DOMAIN_SNAPSHOT, a wrong
// root from VIR_FROM_XML.
func readDocument(doc string) (*elem, error) {
	name, err := domxml.CheckWellFormed(doc, docName, virerr.FromDomainSnapshot)
	if err != nil {
		return nil, err
	}
	if name != "domainsnapshot" {
		return nil, virerr.New(virerr.FromXML, libvirt.ErrXMLError,
			"expecting root element of '%s', not '%s'", "domainsnapshot", name)
	}
	root, err := parseElems(doc)
	if err != nil {
		return nil, virerr.New(virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"failed to parse xml document '%s'", docName)
	}
	return root, nil
}

// parser is one run of virDomainSnapshotDefParse.
type parser struct {
	flags   ParseFlag
	o       Options
	root    *elem
	offline bool
	current bool
}

func (p *parser) redefine() bool { return p.flags&ParseRedefine != 0 }

// parse follows virDomainSnapshotDefParse step by step, so that the first
// error is the one libvirt reports.
func (p *parser) parse() (*Def, error) {
	def := &Def{}
	var ok bool
	def.Name, ok = p.root.childStr("name")
	if !ok && p.redefine() {
		return nil, snapErr(libvirt.ErrXMLError, "a redefined snapshot must have a name")
	}
	def.Description, _ = p.root.childStr("description")
	if p.redefine() {
		if err := p.existing(def); err != nil {
			return nil, err
		}
	} else if p.o.PostParse != nil {
		if err := p.o.PostParse(def); err != nil {
			return nil, err
		}
	} else {
		p.postParse(def)
	}
	if err := p.memory(def); err != nil {
		return nil, err
	}
	var err error
	if def.Disks, err = p.disks("disks"); err != nil {
		return nil, err
	}
	if p.redefine() {
		if def.RevertDisks, err = p.disks("revertDisks"); err != nil {
			return nil, err
		}
	}
	if p.flags&ParseInternal != 0 {
		s, _ := p.root.childStr("active")
		active, ok := virstring.ToInt(s)
		if !ok {
			return nil, snapErr(libvirt.ErrInternalError, "Could not find 'active' element")
		}
		p.current = active != 0
	}
	if !p.offline {
		def.Cookie = cookieContent(p.root.child("cookie"))
	}
	return def, nil
}

// postParse is virDomainMomentDefPostParse: a new snapshot is dated now
// and, unnamed, named after that time in seconds.
func (p *parser) postParse(def *Def) {
	now := time.Now
	if p.o.Now != nil {
		now = p.o.Now
	}
	def.CreationTime = now().Unix()
	if def.Name == "" {
		def.Name = formatInt(def.CreationTime)
	}
}

// existing reads what only a redefined snapshot has: creation time,
// parent, state and the domain definitions.
func (p *parser) existing(def *Def) error {
	s, _ := p.root.childStr("creationTime")
	t, ok := virstring.ToLL(s)
	if !ok {
		return snapErr(libvirt.ErrInternalError, "missing creationTime from existing snapshot")
	}
	def.CreationTime = t
	def.ParentName, _ = p.root.childStr("parent", "name")
	state, ok := p.root.childStr("state")
	if !ok {
		return snapErr(libvirt.ErrXMLError, "missing state from existing snapshot")
	}
	st, known := stateFromString(state)
	if !known || st == StateNoState {
		return snapErr(libvirt.ErrConfigUnsupported, "Invalid state '%s' in domain snapshot XML", state)
	}
	def.State = st
	p.offline = st == StateShutoff || st == StateDiskSnapshot
	return p.domains(def)
}

// domains parses <domain> and <inactiveDomain>. An old snapshot kept only
// <domain><uuid>; without a type its domain is left out, with a warning.
func (p *parser) domains(def *Def) error {
	if typed := firstTyped(p.root.children("domain")); typed {
		d, err := p.domain(p.root.child("domain"))
		if err != nil {
			return err
		}
		def.Dom = d
	} else if p.o.Log != nil {
		p.o.Log.Warn("parsing older snapshot that lacks domain")
	}
	if n := p.root.child("inactiveDomain"); n != nil {
		d, err := p.domain(n)
		if err != nil {
			return err
		}
		def.InactiveDom = d
	}
	return nil
}

// firstTyped is whether string(./domain/@type) is not empty: the first
// type attribute of any <domain>, in document order.
func firstTyped(doms []*elem) bool {
	for _, d := range doms {
		if v, ok := d.attr("type"); ok {
			return v != ""
		}
	}
	return false
}

// domain is virDomainDefParseNode with VIR_DOMAIN_DEF_PARSE_INACTIVE and
// SKIP_VALIDATE on the element's own text, renamed to <domain> (the
// domain parser does not look at the root's name). Namespaces declared
// on the snapshot's root do not reach it; libvirt writes a metadata
// element's declarations on the element.
func (p *parser) domain(n *elem) (*libvirtxml.Domain, error) {
	raw := n.raw
	if n.name != "domain" {
		raw = "<domain" + strings.TrimPrefix(raw, "<"+n.name)
		if i := strings.LastIndex(raw, "</"); i > 0 && strings.HasSuffix(raw, ">") && !strings.HasSuffix(raw, "/>") {
			raw = raw[:i] + "</domain>"
		}
	}
	o := p.o.Domain
	o.Live, o.SkipValidate = false, true
	return domxml.ParseWith(raw, o)
}

// memory reads <memory> and applies libvirt's rules on where the memory
// state may go.
func (p *parser) memory(def *Def) error {
	file, hasFile := "", false
	if m := p.root.child("memory"); m != nil {
		file, hasFile = m.attr("file")
		loc, err := propLocation(m, "snapshot")
		if err != nil {
			return err
		}
		if loc == LocationManual {
			return snapErr(libvirt.ErrXMLError, "'manual' memory snapshot mode not supported")
		}
		def.Memory = loc
	}
	if def.Memory == LocationDefault {
		switch {
		case hasFile:
			def.Memory = LocationExternal
		case p.redefine() && p.offline:
			def.Memory = LocationNo
		case p.redefine():
			def.Memory = LocationInternal
		}
	}
	def.MemoryFile = file
	return checkMemory(def.Memory, file, hasFile, p.offline)
}

func checkMemory(loc Location, file string, hasFile, offline bool) error {
	if hasFile && loc != LocationExternal {
		return snapErr(libvirt.ErrXMLError, "memory filename '%s' requires external snapshot", file)
	}
	if !hasFile && loc == LocationExternal {
		return snapErr(libvirt.ErrXMLError, "external memory snapshots require a filename")
	}
	if offline && loc != LocationDefault && loc != LocationNo {
		return snapErr(libvirt.ErrXMLError, "memory state cannot be saved with offline or disk-only snapshot")
	}
	if hasFile && !strings.HasPrefix(file, "/") {
		return snapErr(libvirt.ErrXMLError, "memory snapshot file path (%s) must be absolute", file)
	}
	return nil
}

// propLocation is virXMLPropEnumDefault(virDomainSnapshotLocation,
// VIR_XML_PROP_NONZERO): absent is LocationDefault, "default" refused.
func propLocation(n *elem, attr string) (Location, error) {
	v, ok := n.attr(attr)
	if !ok {
		return LocationDefault, nil
	}
	loc, known := LocationFromString(v)
	if !known || loc == LocationDefault {
		return 0, propInvalid(attr, n.name, v)
	}
	return loc, nil
}

// disks reads every element under every <name> element ("./disks/*").
func (p *parser) disks(name string) ([]Disk, error) {
	var out []Disk
	for _, list := range p.root.children(name) {
		for _, n := range list.children("*") {
			d, err := parseDisk(n, p.redefine())
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}
