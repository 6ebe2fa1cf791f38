package snapshot

import (
	"bytes"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// smallTree is
//
//	root1 (1, running, internal)
//	├── a  (2, shutoff)
//	│   ├── a1 (4, disk-only, external disk)
//	│   └── a2 (5, running, external memory)
//	└── b  (3, paused)
//	root2 (6, shutoff, external disk)
//
// added in an order that is not the tree's.
func smallTree(t *testing.T) *Tree {
	t.Helper()
	ext := []Disk{{Name: "xvda", Snapshot: LocationExternal}}
	defs := []*Def{
		{Name: "root2", CreationTime: 6, State: StateShutoff, Disks: ext},
		{Name: "root1", CreationTime: 1, State: StateRunning, Memory: LocationInternal},
		{Name: "b", ParentName: "root1", CreationTime: 3, State: StatePaused},
		{Name: "a", ParentName: "root1", CreationTime: 2, State: StateShutoff},
		{Name: "a2", ParentName: "a", CreationTime: 5, State: StateRunning, Memory: LocationExternal, MemoryFile: "/m"},
		{Name: "a1", ParentName: "a", CreationTime: 4, State: StateDiskSnapshot, Disks: ext},
	}
	tr := NewTree()
	for _, d := range defs {
		if _, err := tr.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestListFlags(t *testing.T) {
	tr := smallTree(t)
	root1, a, a1 := tr.Lookup("root1"), tr.Lookup("a"), tr.Lookup("a1")
	all := "root1 a a1 a2 b root2"
	cases := []struct {
		from  *Snapshot
		flags ListFlag
		want  string
	}{
		{nil, 0, all},
		{nil, ListTopological, all},
		{nil, ListRoots, "root1 root2"},
		{nil, ListLeaves, "a1 a2 b root2"},
		{nil, ListNoLeaves, "root1 a"},
		{nil, ListLeaves | ListNoLeaves, ""},
		{nil, ListMetadata, all},
		{nil, ListNoMetadata, ""},
		{nil, ListMetadata | ListNoMetadata, all},
		{nil, ListInactive, "a root2"},
		{nil, ListActive, "root1 a2 b"},
		{nil, ListDiskOnly, "a1"},
		{nil, ListInactive | ListActive, "root1 a a2 b root2"},
		{nil, ListInactive | ListActive | ListDiskOnly, all},
		{nil, ListInternal, "root1 a b"},
		{nil, ListExternal, "a1 a2 root2"},
		{nil, ListInternal | ListExternal, all},
		{nil, ListRoots | ListLeaves, "root2"},
		{nil, ListRoots | ListExternal, "root2"},
		{nil, ListActive | ListExternal | ListLeaves, "a2"},
		{root1, 0, "a b"},
		{root1, ListDescendants, "a a1 a2 b"},
		{root1, ListDescendants | ListLeaves, "a1 a2 b"},
		{root1, ListDescendants | ListTopological | ListInactive, "a"},
		{a, ListNoLeaves, ""},
		{a, ListNoMetadata | ListDescendants, ""},
		{a1, ListDescendants, ""},
	}
	for _, c := range cases {
		got := strings.Join(tr.Names(c.from, c.flags), " ")
		from := "domain"
		if c.from != nil {
			from = c.from.Name()
		}
		if got != c.want {
			t.Errorf("%s flags %#x: %q, want %q", from, c.flags, got, c.want)
		}
		if n := tr.Num(c.from, c.flags); n != len(strings.Fields(c.want)) {
			t.Errorf("%s flags %#x: Num %d", from, c.flags, n)
		}
	}
}

// Every combination of the flags against a second reading of libvirt's
// rules, snapshot by snapshot; and every list is topological.
func TestListFlagsExhaustive(t *testing.T) {
	tr := smallTree(t)
	froms := append([]*Snapshot{nil}, tr.Descendants(nil)...)
	for f := ListFlag(0); f <= ListFlagsAll; f++ {
		if f&^ListFlagsAll != 0 {
			continue
		}
		for _, from := range froms {
			got := tr.List(from, f)
			var want []*Snapshot
			for _, s := range tr.Descendants(nil) {
				if oracle(s, from, f) {
					want = append(want, s)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("from %v flags %#x: %v, want %v", from, f, names(got), names(want))
			}
		}
	}
}

func names(l []*Snapshot) []string {
	var out []string
	for _, s := range l {
		out = append(out, s.Name())
	}
	return out
}

// oracle: whether s is in the list, from the public documentation of
// virDomainListAllSnapshots and virDomainSnapshotListAllChildren.
func oracle(s, from *Snapshot, f ListFlag) bool {
	switch {
	case from == nil && f&ListRoots != 0 && s.Def.ParentName != "":
		return false
	case from != nil && f&ListDescendants == 0 && s.Def.ParentName != from.Name():
		return false
	case from != nil && f&ListDescendants != 0 && !s.DescendsFrom(from):
		return false
	}
	leaf := s.NumChildren() == 0
	if f&ListLeaves != 0 && !leaf || f&ListNoLeaves != 0 && leaf {
		return false
	}
	if f&filtersMetadata == ListNoMetadata {
		return false
	}
	group := func(bits ListFlag, mine ListFlag) bool { return f&bits == 0 || f&mine != 0 }
	state := ListActive
	if s.Def.State == StateShutoff {
		state = ListInactive
	} else if s.Def.State == StateDiskSnapshot {
		state = ListDiskOnly
	}
	loc := ListInternal
	if s.Def.IsExternal() {
		loc = ListExternal
	}
	return group(filtersStatus, state) && group(filtersLocation, loc)
}

func TestTreeAddRemove(t *testing.T) {
	var logs bytes.Buffer
	tr := smallTree(t)
	tr.Log = slog.New(slog.NewTextHandler(&logs, nil))
	_, err := tr.Add(&Def{Name: "a"})
	if e := virerr.As(err); e.Domain != virerr.FromDomain || e.Code != libvirt.ErrOperationFailed ||
		e.Error() != "operation failed: domain moment a already exists" {
		t.Errorf("%v", err)
	}
	o, _ := tr.Add(&Def{Name: "orphan", ParentName: "gone", CreationTime: 9})
	if o.Parent() != nil || !strings.Contains(logs.String(), "moment orphan lacks parent gone") {
		t.Errorf("orphan: parent %v, log %q", o.Parent(), logs.String())
	}
	tr.Remove(o)
	a := tr.Lookup("a")
	tr.SetCurrent(a)
	moved, wasCurrent := tr.Remove(a)
	if !wasCurrent || tr.Current() != nil || tr.Lookup("a") != nil || strings.Join(names(moved), " ") != "a1 a2" {
		t.Errorf("remove a: moved %v, current %v", names(moved), wasCurrent)
	}
	for _, m := range moved {
		if m.Def.ParentName != "root1" || m.Parent() != tr.Lookup("root1") {
			t.Errorf("%s: parent %q", m.Name(), m.Def.ParentName)
		}
	}
	if got := strings.Join(tr.Names(nil, 0), " "); got != "root1 b a1 a2 root2" {
		t.Errorf("after removing a: %s", got)
	}
	moved, _ = tr.Remove(tr.Lookup("root1"))
	if got := strings.Join(tr.Names(nil, ListRoots), " "); got != "b a1 a2 root2" || moved[0].Def.ParentName != "" {
		t.Errorf("after removing root1: %s", got)
	}
	if _, cur := tr.Remove(&Snapshot{Def: &Def{Name: "b"}}); cur || tr.Lookup("b") == nil {
		t.Error("removed a snapshot of another tree")
	}
}

// Loaded in any order, the snapshots link up; a missing parent or a
// cycle makes a root, and there is no current snapshot then.
func TestUpdateRelations(t *testing.T) {
	tr := NewTree()
	for _, d := range []*Def{
		{Name: "c", ParentName: "b", CreationTime: 3}, {Name: "b", ParentName: "a", CreationTime: 2},
		{Name: "a", CreationTime: 1},
	} {
		tr.Add(d)
	}
	tr.SetCurrent(tr.Lookup("c"))
	if err := tr.UpdateRelations(); err != nil || strings.Join(tr.Names(nil, ListRoots), " ") != "a" ||
		tr.Lookup("c").Parent() != tr.Lookup("b") || tr.Current() == nil {
		t.Fatalf("%v: %v", err, tr.Names(nil, ListRoots))
	}
	tr.Add(&Def{Name: "x", ParentName: "y", CreationTime: 4})
	tr.Add(&Def{Name: "y", ParentName: "x", CreationTime: 5})
	tr.Add(&Def{Name: "o", ParentName: "missing", CreationTime: 6})
	err := tr.UpdateRelations()
	var re *RelationsError
	if !errors.As(err, &re) || !reflect.DeepEqual(re.Orphans, []string{"o"}) || !reflect.DeepEqual(re.Cycles, []string{"y"}) {
		t.Fatalf("%v", err)
	}
	if tr.Current() != nil || strings.Join(tr.Names(nil, ListRoots), " ") != "a y o" ||
		strings.Join(tr.Names(nil, 0), " ") != "a b c y x o" {
		t.Errorf("roots %v, all %v", tr.Names(nil, ListRoots), tr.Names(nil, 0))
	}
}

// Replace keeps the children and the old domain, and relinks the parent.
func TestReplace(t *testing.T) {
	tr := smallTree(t)
	a := tr.Lookup("a")
	a.Def.Dom = mustDomain(t)
	tr.Replace(a, &Def{Name: "a", ParentName: "b", CreationTime: 2, State: StateShutoff})
	if a.Parent() != tr.Lookup("b") || a.NumChildren() != 2 || a.Def.Dom == nil ||
		strings.Join(tr.Names(tr.Lookup("root1"), ListDescendants), " ") != "b a a1 a2" {
		t.Errorf("%v", tr.Names(nil, 0))
	}
	if !tr.Lookup("a2").DescendsFrom(tr.Lookup("root1")) || tr.Lookup("root1").DescendsFrom(a) || a.DescendsFrom(a) {
		t.Error("DescendsFrom")
	}
}

func TestRelationsErrorText(t *testing.T) {
	e := &RelationsError{Orphans: []string{"o"}, Cycles: []string{"x", "y"}}
	if e.Error() != "inconsistent snapshot relations: snapshots lacking their parent: o; snapshots in a circular chain: x, y" {
		t.Error(e.Error())
	}
}
