package snapshot

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Snapshot is one snapshot of a Tree (virDomainMomentObj).
type Snapshot struct {
	Def      *Def
	parent   *Snapshot // the tree's root for a top-level snapshot
	children []*Snapshot
}

// Name is the snapshot's name.
func (s *Snapshot) Name() string { return s.Def.Name }

// Parent is the parent snapshot, nil for a top-level one.
func (s *Snapshot) Parent() *Snapshot {
	if s.parent == nil || s.parent.Def == nil {
		return nil
	}
	return s.parent
}

// Children are the direct children, oldest first.
func (s *Snapshot) Children() []*Snapshot { return append([]*Snapshot(nil), s.children...) }

// NumChildren is how many direct children s has.
func (s *Snapshot) NumChildren() int { return len(s.children) }

// IsExternal is virDomainSnapshotIsExternal.
func (s *Snapshot) IsExternal() bool { return s.Def.IsExternal() }

// DescendsFrom is virDomainMomentIsAncestor(s, a): a is s's parent, or
// its parent's, and so on.
func (s *Snapshot) DescendsFrom(a *Snapshot) bool {
	if s == a {
		return false
	}
	for p := s.parent; p != nil; p = p.parent {
		if p == a {
			return true
		}
	}
	return false
}

// Tree is one domain's snapshots (virDomainSnapshotObjList): by name,
// linked to their parents, with the current one. The caller serialises
// access (the driver holds its domain lock, as libvirt does).
type Tree struct {
	byName  map[string]*Snapshot
	root    Snapshot // the metaroot: parent of every top-level snapshot
	current *Snapshot
	// Log receives libvirt's warnings on inconsistent relations; nil
	// discards them.
	Log *slog.Logger
	// CheckABI checks a redefinition's domain against the one the
	// snapshot had (virDomainDefCheckABIStability); nil checks the
	// virtualization type, UUID and name.
	CheckABI func(old, redefined *libvirtxml.Domain) error
}

// NewTree is an empty tree.
// The map is made with the first snapshot: most domains have none, and
// an empty map for each of 10,000 costs half a megabyte.
func NewTree() *Tree {
	return &Tree{}
}

func (t *Tree) warn(format string, args ...any) {
	if t.Log != nil {
		t.Log.Warn(fmt.Sprintf(format, args...))
	}
}

// Len is the number of snapshots.
func (t *Tree) Len() int { return len(t.byName) }

// Lookup finds a snapshot by name; nil if there is none.
func (t *Tree) Lookup(name string) *Snapshot { return t.byName[name] }

// Current is the current snapshot, nil if none.
func (t *Tree) Current() *Snapshot { return t.current }

// SetCurrent makes s (nil: none) the current snapshot.
func (t *Tree) SetCurrent(s *Snapshot) { t.current = s }

// Add puts def in the tree under its parent (virDomainSnapshotAssignDef
// and virDomainSnapshotLinkParent). A parent that is not there makes it a
// top-level snapshot, with a warning; UpdateRelations links it once the
// parent is loaded.
func (t *Tree) Add(def *Def) (*Snapshot, error) {
	if _, ok := t.byName[def.Name]; ok {
		return nil, domainErr(libvirt.ErrOperationFailed, "domain moment %s already exists", def.Name)
	}
	s := &Snapshot{Def: def}
	if t.byName == nil {
		t.byName = map[string]*Snapshot{}
	}
	t.byName[def.Name] = s
	t.linkParent(s)
	return s, nil
}

// Replace gives s a new definition, as a redefinition of an existing
// snapshot does (virDomainSnapshotReplaceDef): a definition without a
// domain keeps the old one's, the children stay, the parent is the new
// definition's.
func (t *Tree) Replace(s *Snapshot, def *Def) {
	if def.Dom == nil {
		def.Dom = s.Def.Dom
	}
	if def.Name != s.Def.Name && t.byName[s.Def.Name] == s {
		delete(t.byName, s.Def.Name)
		t.byName[def.Name] = s
	}
	t.dropParent(s)
	s.Def = def
	t.linkParent(s)
}

// Remove takes s out of the tree. Its children move to its parent
// (virDomainMomentMoveChildren), their ParentName changed to say so; they
// are returned, for their metadata to be written again. wasCurrent says
// whether s was the current snapshot (there is none now). To remove a
// subtree, remove Descendants(s) from the last, then s.
func (t *Tree) Remove(s *Snapshot) (reparented []*Snapshot, wasCurrent bool) {
	if t.byName[s.Def.Name] != s {
		return nil, false
	}
	parent := s.parent
	if parent == nil {
		parent = &t.root
	}
	t.dropParent(s)
	reparented = s.Children()
	for _, c := range reparented {
		c.Def.ParentName = ""
		if parent.Def != nil {
			c.Def.ParentName = parent.Def.Name
		}
		setParent(c, parent)
	}
	s.children = nil
	delete(t.byName, s.Def.Name)
	if t.current == s {
		t.current, wasCurrent = nil, true
	}
	return reparented, wasCurrent
}

// linkParent is virDomainMomentLinkParent.
func (t *Tree) linkParent(s *Snapshot) {
	parent := t.byName[s.Def.ParentName]
	if s.Def.ParentName == "" || parent == nil {
		if s.Def.ParentName != "" {
			t.warn("moment %s lacks parent %s", s.Def.Name, s.Def.ParentName)
		}
		parent = &t.root
	}
	setParent(s, parent)
}

// setParent adds s to parent's children, which stay oldest first.
func setParent(s, parent *Snapshot) {
	s.parent = parent
	i := sort.Search(len(parent.children), func(i int) bool { return older(s, parent.children[i]) })
	parent.children = append(parent.children, nil)
	copy(parent.children[i+1:], parent.children[i:])
	parent.children[i] = s
}

// older orders snapshots by creation time, then name.
func older(a, b *Snapshot) bool {
	if a.Def.CreationTime != b.Def.CreationTime {
		return a.Def.CreationTime < b.Def.CreationTime
	}
	return a.Def.Name < b.Def.Name
}

// dropParent is virDomainMomentDropParent.
func (t *Tree) dropParent(s *Snapshot) {
	p := s.parent
	if p == nil {
		return
	}
	for i, c := range p.children {
		if c == s {
			p.children = append(p.children[:i:i], p.children[i+1:]...)
			break
		}
	}
	s.parent = nil
}

// RelationsError is what UpdateRelations found wrong: snapshots whose
// parent is missing and snapshots whose parent would close a cycle. Both
// became top-level snapshots.
type RelationsError struct {
	Orphans, Cycles []string
}

func (e *RelationsError) Error() string {
	var parts []string
	if len(e.Orphans) > 0 {
		parts = append(parts, "snapshots lacking their parent: "+strings.Join(e.Orphans, ", "))
	}
	if len(e.Cycles) > 0 {
		parts = append(parts, "snapshots in a circular chain: "+strings.Join(e.Cycles, ", "))
	}
	return "inconsistent snapshot relations: " + strings.Join(parts, "; ")
}

// UpdateRelations links every snapshot to its parent anew, as after
// loading the metadata files (virDomainMomentUpdateRelations). A missing
// parent or a cycle makes the snapshot top-level, with a warning; then
// there is no current snapshot and the error says what was wrong.
func (t *Tree) UpdateRelations() error {
	t.root.children = nil
	all := make([]*Snapshot, 0, len(t.byName))
	for _, s := range t.byName {
		s.parent, s.children = nil, nil
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return older(all[i], all[j]) })
	var e RelationsError
	for _, s := range all {
		parent := t.byName[s.Def.ParentName]
		switch {
		case s.Def.ParentName == "":
			parent = &t.root
		case parent == nil:
			t.warn("moment %s lacks parent %s", s.Def.Name, s.Def.ParentName)
			e.Orphans = append(e.Orphans, s.Def.Name)
			parent = &t.root
		case closesCycle(s, parent):
			t.warn("moment %s in circular chain", s.Def.Name)
			e.Cycles = append(e.Cycles, s.Def.Name)
			parent = &t.root
		}
		setParent(s, parent)
	}
	if e.Orphans != nil || e.Cycles != nil {
		t.current = nil
		return &e
	}
	return nil
}

// closesCycle: s is among parent's linked ancestors.
func closesCycle(s, parent *Snapshot) bool {
	for p := parent; p != nil && p.Def != nil; p = p.parent {
		if p == s {
			return true
		}
	}
	return false
}

// Descendants are s's children, their children and so on, parents
// before children, siblings oldest first; nil s gives every snapshot.
func (t *Tree) Descendants(s *Snapshot) []*Snapshot {
	if s == nil {
		s = &t.root
	}
	var out []*Snapshot
	var walk func(*Snapshot)
	walk = func(p *Snapshot) {
		for _, c := range p.children {
			out = append(out, c)
			walk(c)
		}
	}
	walk(s)
	return out
}
