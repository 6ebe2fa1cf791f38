package snapshot

import (
	"fmt"
	"testing"
)

// FuzzRedefine plays a sequence of redefinitions, deletions and reloads
// on one tree, each step chosen by two bytes, and checks after each that
// the tree is one: every snapshot reachable once, links matching parent
// names, no cycle, the current one in the tree, lists topological.
func FuzzRedefine(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 2, 8, 1, 0, 3, 16, 0})
	f.Add([]byte{0, 0, 0, 1, 0, 2, 1, 1, 0, 2, 24, 0, 32, 1})
	dom := mustDomain(f)
	f.Fuzz(func(t *testing.T, ops []byte) {
		tr := NewTree()
		clock := int64(0)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]>>3, ops[i]&7
			name, parent := fmt.Sprintf("s%d", arg), fmt.Sprintf("s%d", ops[i+1]&7)
			switch op % 4 {
			case 0, 1: // redefine name under parent (none when odd)
				clock++
				def := &Def{Name: name, CreationTime: clock, State: State(1 + ops[i+1]>>4%8), Dom: dom}
				if ops[i+1]&8 == 0 {
					def.ParentName = parent
				}
				existing, err := tr.RedefinePrep(def, dom, false)
				if err != nil {
					break
				}
				if existing != nil {
					tr.Replace(existing, def)
				} else if _, err := tr.Add(def); err != nil {
					t.Fatalf("prepared but not added: %v", err)
				}
			case 2: // delete, maybe the current one's place
				if s := tr.Lookup(name); s != nil {
					tr.Remove(s)
				}
			case 3: // reload: relink from the names, set current
				if err := tr.UpdateRelations(); err != nil {
					t.Fatalf("consistent tree reported %v", err)
				}
				tr.SetCurrent(tr.Lookup(parent))
			}
			checkTree(t, tr)
		}
	})
}

func checkTree(t *testing.T, tr *Tree) {
	t.Helper()
	all := tr.Descendants(nil)
	if len(all) != tr.Len() {
		t.Fatalf("%d reachable of %d", len(all), tr.Len())
	}
	pos := map[*Snapshot]int{}
	for i, s := range all {
		if _, dup := pos[s]; dup || tr.Lookup(s.Name()) != s {
			t.Fatalf("%s twice or not by name", s.Name())
		}
		pos[s] = i
	}
	for _, s := range all {
		p := s.Parent()
		switch {
		case p == nil && s.Def.ParentName != "",
			p != nil && p.Name() != s.Def.ParentName:
			t.Fatalf("%s linked to %v, names %q", s.Name(), p, s.Def.ParentName)
		case p != nil && pos[p] >= pos[s]:
			t.Fatalf("%s listed before its parent", s.Name())
		}
		for _, c := range s.children {
			if c.parent != s {
				t.Fatalf("%s's child %s points elsewhere", s.Name(), c.Name())
			}
		}
	}
	if c := tr.Current(); c != nil && tr.Lookup(c.Name()) != c {
		t.Fatalf("current %s not in the tree", c.Name())
	}
	if tr.Num(nil, ListRoots)+tr.Num(nil, ListNoLeaves|ListLeaves) != tr.Num(nil, ListRoots) {
		t.Fatal("leaves and non-leaves together select something")
	}
}
