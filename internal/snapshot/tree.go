package snapshot

import (
	"sort"

	libvirt "github.com/digitalocean/go-libvirt"
)

// Obj is one snapshot in a domain's tree (virDomainMomentObj). Its Def is
// replaced, never changed in place, so a reader holding the old one keeps
// a consistent definition.
type Obj struct {
	Def *Def
}

// Tree is a domain's snapshots (virDomainSnapshotObjList): by name, with
// the current one. The parent links are the definitions' ParentName, so
// that reparenting is a change of definition and the tree can never
// disagree with what is written. Not safe for concurrent use: the
// driver guards it with the domain's lock.
type Tree struct {
	byName  map[string]*Obj
	current *Obj
}

// NewTree is an empty tree.
func NewTree() *Tree { return &Tree{byName: map[string]*Obj{}} }

// Len is how many snapshots there are.
func (t *Tree) Len() int { return len(t.byName) }

// Lookup is the snapshot called name, nil if none.
func (t *Tree) Lookup(name string) *Obj {
	if name == "" {
		return nil
	}
	return t.byName[name]
}

// Add puts def in the tree (virDomainMomentAssignDef).
func (t *Tree) Add(def *Def) (*Obj, error) {
	if t.byName[def.Name] != nil {
		return nil, domainErr(libvirt.ErrOperationFailed, "domain moment %s already exists", def.Name)
	}
	o := &Obj{Def: def}
	t.byName[def.Name] = o
	return o, nil
}

// Remove takes o out; it stops being current.
func (t *Tree) Remove(o *Obj) {
	if o == nil || t.byName[o.Def.Name] != o {
		return
	}
	delete(t.byName, o.Def.Name)
	if t.current == o {
		t.current = nil
	}
}

// Current is the current snapshot, nil for none.
func (t *Tree) Current() *Obj { return t.current }

// SetCurrent makes o current (nil: none).
func (t *Tree) SetCurrent(o *Obj) { t.current = o }

// Parent is o's parent, nil for a root.
func (t *Tree) Parent(o *Obj) *Obj { return t.Lookup(o.Def.ParentName) }

// Children is o's children (nil: the roots), oldest first.
func (t *Tree) Children(o *Obj) []*Obj {
	want := ""
	if o != nil {
		want = o.Def.Name
	}
	var out []*Obj
	for _, c := range t.byName {
		if c.Def.ParentName == want || (want == "" && t.byName[c.Def.ParentName] == nil) {
			out = append(out, c)
		}
	}
	sortByAge(out)
	return out
}

// FirstChild is o's oldest child, nil for a leaf.
func (t *Tree) FirstChild(o *Obj) *Obj {
	if c := t.Children(o); len(c) > 0 {
		return c[0]
	}
	return nil
}

// NumChildren is how many children o has.
func (t *Tree) NumChildren(o *Obj) int { return len(t.Children(o)) }

// HasChildren says whether o has children.
func (t *Tree) HasChildren(o *Obj) bool { return t.NumChildren(o) > 0 }

// IsAncestor is virDomainMomentIsAncestor: whether anc is above o.
func (t *Tree) IsAncestor(o, anc *Obj) bool {
	if o == nil || anc == nil {
		return false
	}
	for p, n := t.Parent(o), 0; p != nil && n <= len(t.byName); p, n = t.Parent(p), n+1 {
		if p == anc {
			return true
		}
	}
	return false
}

// ParentForDisk is qemuSnapshotFindParentSnapForDisk: the nearest
// ancestor of o that snapshotted the disk named disk.
func (t *Tree) ParentForDisk(o *Obj, disk string) *Obj {
	for p, n := t.Parent(o), 0; p != nil && n <= len(t.byName); p, n = t.Parent(p), n+1 {
		for _, d := range p.Def.Disks {
			if d.Name == disk && d.Snapshot != LocationNo {
				return p
			}
		}
	}
	return nil
}

// Fixup is virDomainMomentUpdateRelations' repair after a load: a
// snapshot whose parent is missing becomes a root. It returns their names.
func (t *Tree) Fixup() []string {
	var orphans []string
	for _, o := range t.byName {
		if o.Def.ParentName != "" && t.byName[o.Def.ParentName] == nil {
			nd := *o.Def
			nd.ParentName = ""
			o.Def = &nd
			orphans = append(orphans, o.Def.Name)
		}
	}
	sort.Strings(orphans)
	return orphans
}

// walk visits the subtree below o (nil: all), parents before children,
// siblings oldest first.
func (t *Tree) walk(o *Obj, deep bool, visit func(*Obj)) {
	for _, c := range t.Children(o) {
		visit(c)
		if deep {
			t.walk(c, true, visit)
		}
	}
}

func sortByAge(objs []*Obj) {
	sort.Slice(objs, func(i, j int) bool {
		a, b := objs[i].Def, objs[j].Def
		if a.CreationTime != b.CreationTime {
			return a.CreationTime < b.CreationTime
		}
		return a.Name < b.Name
	})
}
