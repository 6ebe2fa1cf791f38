package driver

import (
	"strings"
	"sync"
	"weak"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// definition is one domain definition. The driver never changes one in
// place (a change makes a new definition), so a definition can be kept in
// whichever form is cheapest and turned into the other when needed:
//
//   - a live definition (a running guest's, or one just parsed from a
//     client) holds its parsed form, which the running guest's
//     operations read all the time;
//   - a saved definition (a persistent one while no guest runs from it)
//     holds the text it is saved as, its config file's body. That is
//     about a fifth of the parsed form's memory (with 10,000 domains
//     defined, the parsed forms were most of the daemon's memory), costs
//     nothing to load at start (parsing was most of the start-up time)
//     and is dumpxml's answer as it stands. It is parsed when an operation
//     needs the structure, and the parsed form is kept only while some
//     operation holds it (a weak pointer), so a domain nobody uses costs
//     its text.
//
// The calls that read every domain (info, bulk stats) read its facts,
// kept beside the text, so that polling inactive guests never parses.
type definition struct {
	// live is the parsed form of a live definition; nil for a saved one.
	live *libvirtxml.Domain
	// text is a saved definition's config body (FormatInactive and
	// FormatSecure, as virDomainDefSave writes it), deflated once packed
	// (pack.go).
	text   string
	packed bool
	// canonical: text is what this daemon's formatter made of the
	// definition, so dumpxml can answer with it. A text read from a
	// config file may have been written by another version or by libvirt.
	canonical bool

	mu     sync.Mutex
	cached weak.Pointer[libvirtxml.Domain]
	facts  *defFacts
	// bad is why a saved text would not parse (the file was edited by
	// hand into something that is no definition); parsed then returns a
	// definition of the name and uuid alone, which no guest starts from.
	bad error
}

// defFacts are the few figures of a definition that the calls reading
// every domain need.
type defFacts struct {
	memKiB, curKiB     uint64 // memTotal, curBalloon
	vcpusCur, vcpusMax int
	disks              []diskFact
	// secrets: the view without FormatSecure differs (graphics passwords).
	secrets bool
}

// diskFact is what bulk stats read of a disk (qemuDomainGetStatsBlock).
type diskFact struct {
	dev, path, format string
}

// liveDef holds a parsed definition.
func liveDef(def *libvirtxml.Domain) *definition {
	if def == nil {
		return nil
	}
	return &definition{live: def}
}

// savedDef holds a definition as its saved text, which this daemon's
// formatter made of def, not yet packed (Driver.packLater).
func savedDef(def *libvirtxml.Domain, text string) *definition {
	x := &definition{text: text, canonical: true, facts: factsOf(def)}
	x.cached = weak.Make(def)
	return x
}

// loadedDef holds a definition read from a config file: its text, parsed
// when first needed unless parsed is given.
func loadedDef(text string, parsed *libvirtxml.Domain) *definition {
	x := &definition{text: text}
	if parsed != nil {
		x.cached, x.facts = weak.Make(parsed), factsOf(parsed)
	}
	return x
}

// saved reports a definition kept as its saved text.
func (x *definition) saved() bool { return x != nil && x.live == nil }

// parsed is the definition's structure; nil for a nil definition. The
// caller must not change it (make a new definition instead).
func (x *definition) parsed() *libvirtxml.Domain {
	if x == nil {
		return nil
	}
	if x.live != nil {
		return x.live
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if def := x.cached.Value(); def != nil {
		return def
	}
	text, err := x.textLocked()
	var def *libvirtxml.Domain
	if err == nil {
		def, err = parseConfig(text)
	}
	if err != nil {
		x.bad = err
		def = stubDef(text)
	}
	x.cached = weak.Make(def)
	if x.facts == nil {
		x.facts = factsOf(def)
	}
	return def
}

// parseErr is why a saved definition could not be parsed, if it could not.
func (x *definition) parseErr() error {
	if x == nil || x.live != nil {
		return nil
	}
	x.parsed()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bad
}

// info is the definition's facts; a saved definition parses for them
// once. A live one's are read afresh, cheaply: nothing is saved there.
func (x *definition) info() *defFacts {
	if x.live != nil {
		return factsOf(x.live)
	}
	x.mu.Lock()
	f := x.facts
	x.mu.Unlock()
	if f != nil {
		return f
	}
	f = factsOf(x.parsed())
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.facts == nil {
		x.facts = f
	}
	return x.facts
}

// savedText is the saved definition's text when it is dumpxml's answer
// for flags: the inactive view, made by this daemon's formatter, with
// secrets only if they were asked for or there are none.
func (x *definition) savedText(flags domxml.FormatFlag) (string, bool) {
	if x == nil || x.live != nil || flags&domxml.FormatMigratable != 0 {
		return "", false
	}
	x.mu.Lock()
	canonical := x.canonical
	x.mu.Unlock()
	if !canonical || (flags&domxml.FormatSecure == 0 && x.info().secrets) {
		return "", false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	text, err := x.textLocked()
	return text, err == nil
}

// textLocked is the saved text, inflated; the caller holds x.mu.
func (x *definition) textLocked() (string, error) {
	if !x.packed {
		return x.text, nil
	}
	return unpack(x.text)
}

// pack deflates a saved text loaded as it was read.
func (x *definition) pack() {
	if !x.saved() {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.packed {
		x.text, x.packed = pack(x.text), true
	}
}

// canonicalize tells a saved definition what this daemon's formatter
// made of its inactive view with flags. A text loaded from a config file
// is replaced with that, when it is the saved view (secrets included), so
// that dumpxml answers with it from now on.
func (x *definition) canonicalize(flags domxml.FormatFlag, text string) {
	if x == nil || x.live != nil || flags&domxml.FormatMigratable != 0 {
		return
	}
	if flags&domxml.FormatSecure == 0 && x.info().secrets {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.canonical && x.bad == nil {
		x.text, x.packed, x.canonical = pack(text), true, true
	}
}

// stubDef stands for a saved text that would not parse: the name and uuid
// that loadSaved found in it.
func stubDef(text string) *libvirtxml.Domain {
	_, name, _ := strings.Cut(text, "<name>")
	name, _, _ = strings.Cut(name, "</name>")
	_, uuid, _ := strings.Cut(text, "<uuid>")
	uuid, _, _ = strings.Cut(uuid, "</uuid>")
	return &libvirtxml.Domain{Type: "xen", Name: name, UUID: uuid}
}

func factsOf(def *libvirtxml.Domain) *defFacts {
	cur, maximum := vcpus(def)
	f := &defFacts{memKiB: memTotal(def), curKiB: curBalloon(def), vcpusCur: cur, vcpusMax: maximum,
		secrets: domxml.HasSecrets(def)}
	for _, d := range diskDevices(def) {
		f.disks = append(f.disks, diskFact{dev: d.Target.Dev, path: localSource(&d), format: diskFormat(&d)})
	}
	return f
}
