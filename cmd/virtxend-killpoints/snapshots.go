package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/paths"
	dsnap "virtxend/internal/snapshot"
)

// The snapshot operations redefine snapshot metadata (no disk is touched,
// so they suit every guest the harness has) and delete it. The daemon
// keeps a file per snapshot, <active>1</active> on the current one; a
// change of the current snapshot is two writes, the old one unmarked
// first, so a kill between them leaves none current, never two.

// maxSnapshots bounds a domain's snapshots, so that a delete meets small
// trees with children and grandchildren rather than long lists.
const maxSnapshots = 4

// snapTree is a domain's snapshots: each name with its parent, "" for a
// top-level one.
type snapTree map[string]string

// String is the encoding guest.Snaps holds: "name<parent" (or "name"),
// sorted by name, separated by spaces.
func (t snapTree) String() string {
	parts := make([]string, 0, len(t))
	for name, parent := range t {
		if parent != "" {
			name += "<" + parent
		}
		parts = append(parts, name)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// snaps decodes g.Snaps (none once the domain is gone).
func (g guest) snaps() snapTree {
	t := snapTree{}
	if !g.exists() {
		return t
	}
	for _, part := range strings.Fields(g.Snaps) {
		name, parent, _ := strings.Cut(part, "<")
		t[name] = parent
	}
	return t
}

// sortedNames is t's names in order, for choices a seed repeats.
func (t snapTree) sortedNames() []string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// children are the names whose parent is name.
func (t snapTree) children(name string) []string {
	var out []string
	for _, n := range t.sortedNames() {
		if t[n] == name {
			out = append(out, n)
		}
	}
	return out
}

func canAddSnapshot(g guest) bool { return g.exists() && len(g.snaps()) < maxSnapshots }

// canMakeCurrent: a snapshot can be added, or one not current made so.
func canMakeCurrent(g guest) bool {
	t := g.snaps()
	return canAddSnapshot(g) || len(t) > 1 || len(t) == 1 && g.Current == ""
}

func hasSnapshot(g guest) bool { return len(g.snaps()) > 0 }

// planRedefine adds a snapshot "s<seq>" under an existing one or at the
// top; with current, it becomes the current one
// (VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT), or, a third of the time and
// always when there is no room for another, an existing one does, as
// virsh snapshot-current makes it: by redefining it as it is, with that
// flag.
func planRedefine(current bool) func(g guest, seq int, rng *rand.Rand) guest {
	return func(g guest, seq int, rng *rand.Rand) guest {
		t := g.snaps()
		names := t.sortedNames()
		if current && len(names) > 0 && (len(names) >= maxSnapshots || rng.Intn(3) == 0) {
			var others []string
			for _, n := range names {
				if n != g.Current {
					others = append(others, n)
				}
			}
			if len(others) > 0 {
				g.Current = others[rng.Intn(len(others))]
				return g
			}
		}
		name, parent := fmt.Sprintf("s%d", seq), ""
		if len(names) > 0 && rng.Intn(4) != 0 {
			parent = names[rng.Intn(len(names))]
		}
		t[name] = parent
		g.Snaps = t.String()
		if current {
			g.Current = name
		}
		return g
	}
}

// redefineOp redefines the snapshot the plan added, or the one it made
// current.
func redefineOp(l *libvirt.Libvirt, name string, before, after guest) (int32, error) {
	t, old := after.snaps(), before.snaps()
	snap, flags := after.Current, libvirt.DomainSnapshotCreateRedefine
	for n := range t {
		if _, ok := old[n]; !ok {
			snap = n
		}
	}
	if after.Current == snap && before.Current != snap {
		flags |= libvirt.DomainSnapshotCreateCurrent
	}
	_, err := l.DomainSnapshotCreateXML(domRef(name, before), snapshotXML(name, before.UUID, snap, t[snap]), uint32(flags))
	return 0, err
}

// snapshotXML is the metadata of a snapshot of a shut-off guest, as
// VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE takes it: name, state, creation time
// (the seq in its name, so that a redefinition of it says the same),
// parent, and the domain it was taken of, small but one the harness's
// guests could be (no disk: nothing to align, no image to touch).
func snapshotXML(dom, uuid, snap, parent string) string {
	seq, _ := strconv.Atoi(strings.TrimPrefix(snap, "s"))
	p := ""
	if parent != "" {
		p = "<parent><name>" + parent + "</name></parent>"
	}
	return fmt.Sprintf("<domainsnapshot><name>%s</name><state>shutoff</state><creationTime>%d</creationTime>%s"+
		"<domain type='xen'><name>%s</name><uuid>%s</uuid><memory unit='MiB'>128</memory><vcpu>1</vcpu>"+
		"<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>"+
		"</domainsnapshot>", snap, 1700000000+seq, p, dom, uuid)
}

// noneCurrent: a change of the current snapshot unmarks the old one, then
// writes the new one marked; a kill between leaves none current (and a
// new snapshot not yet there).
func noneCurrent(before, after guest) []guest {
	if before.Current == "" || before.Current == after.Current {
		return nil
	}
	before.Current = ""
	return []guest{before}
}

// planDelete deletes one snapshot: its children move to its parent, which
// becomes current if it was (none if it was top-level).
func planDelete(g guest, _ int, rng *rand.Rand) guest {
	t := g.snaps()
	names := t.sortedNames()
	victim := names[rng.Intn(len(names))]
	parent := t[victim]
	for _, c := range t.children(victim) {
		t[c] = parent
	}
	delete(t, victim)
	g.Snaps = t.String()
	if g.Current == victim {
		g.Current = parent
	}
	return g
}

// deleteOp deletes the snapshot the plan removed, with flags (0 or
// VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY: the metadata goes alike).
func deleteOp(flags libvirt.DomainSnapshotDeleteFlags) func(*libvirt.Libvirt, string, guest, guest) (int32, error) {
	return func(l *libvirt.Libvirt, name string, before, after guest) (int32, error) {
		t := after.snaps()
		for _, n := range before.snaps().sortedNames() {
			if _, kept := t[n]; !kept {
				return 0, l.DomainSnapshotDelete(libvirt.DomainSnapshot{Name: n, Dom: domRef(name, before)}, flags)
			}
		}
		return 0, fmt.Errorf("snapshot-delete of %s: the plan deleted nothing", name)
	}
}

// deleteHalves are the states a delete cut short may leave: it rewrites
// each child with its new parent, then the parent (marked, if it becomes
// current), and removes the deleted snapshot's file last; the deleted
// snapshot, if current, may have lost its mark before. So the deleted one
// is still there, any of its children moved, and none current, or the
// current one as it was, or (all children moved) its parent.
func deleteHalves(before, after guest) []guest {
	old, now := before.snaps(), after.snaps()
	var victim string
	for n := range old {
		if _, kept := now[n]; !kept {
			victim = n
		}
	}
	children := old.children(victim)
	currents := []string{before.Current, ""}
	var out []guest
	for mask := 0; mask < 1<<len(children); mask++ {
		t := before.snaps()
		for i, c := range children {
			if mask&(1<<i) != 0 {
				t[c] = old[victim]
			}
		}
		cs := currents
		if mask == 1<<len(children)-1 && before.Current == victim && old[victim] != "" {
			cs = append(cs, old[victim])
		}
		for _, cur := range cs {
			g := before
			g.Snaps, g.Current = t.String(), cur
			out = append(out, g)
		}
	}
	return out
}

// readSnapshots reads a domain's snapshots, with their parents, and the
// current one from a daemon.
func readSnapshots(l *libvirt.Libvirt, d libvirt.Domain) (snaps, current string, err error) {
	list, _, err := l.DomainListAllSnapshots(d, 1, 0)
	if err != nil {
		return "", "", err
	}
	t := snapTree{}
	for _, s := range list {
		x, err := l.DomainSnapshotGetXMLDesc(s, 0)
		if err != nil {
			return "", "", err
		}
		var def libvirtxml.DomainSnapshot
		if err := def.Unmarshal(x); err != nil {
			return "", "", fmt.Errorf("snapshot %s: %w", s.Name, err)
		}
		t[def.Name] = ""
		if def.Parent != nil {
			t[def.Name] = def.Parent.Name
		}
	}
	has, err := l.DomainHasCurrentSnapshot(d, 0)
	if err != nil || has == 0 {
		return t.String(), "", err
	}
	cur, err := l.DomainSnapshotCurrent(d, 0)
	return t.String(), cur.Name, err
}

// checkSnapshotFiles: every snapshot metadata file is whole (it parses as
// the daemon loads it, and names its snapshot and domain as its path
// does), and no domain's directory has two marked current, after a kill
// or after a restart. Temporaries are findTemps' to count.
func checkSnapshotFiles(p paths.Paths) []string {
	var problems []string
	top := p.SnapshotDir()
	for _, dom := range entries(top) {
		dir := filepath.Join(top, dom)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			problems = append(problems, "unexpected file "+dir)
			continue
		}
		var current []string
		for _, n := range entries(dir) {
			stem, ok := strings.CutSuffix(n, ".xml")
			if !ok {
				if !strings.HasSuffix(n, ".save") {
					problems = append(problems, "unexpected file "+filepath.Join(dir, n))
				}
				continue
			}
			def, cur, err := readSnapshotFile(filepath.Join(dir, n))
			if err == nil && (def.Name != stem || def.Dom == nil || def.Dom.Name != dom) {
				err = fmt.Errorf("it names another snapshot or domain")
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("half-written snapshot metadata %s: %v", filepath.Join(dir, n), err))
			} else if cur {
				current = append(current, stem)
			}
		}
		if len(current) > 1 {
			problems = append(problems, fmt.Sprintf("TWO CURRENT: snapshots %v of %s are all marked current", current, dom))
		}
	}
	return problems
}

func readSnapshotFile(path string) (*dsnap.Def, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	return dsnap.ParseMetadata(string(b), dsnap.Options{})
}

// checkSnapshotOwners: after a restart, every snapshot directory belongs
// to a domain the daemon shows, and every snapshot in it was taken of
// that domain (its uuid): metadata a removed domain left behind would
// come back as the snapshots of the next domain given its name.
func checkSnapshotOwners(root string, seen map[string]guest) []string {
	var problems []string
	top := paths.Under(root).SnapshotDir()
	for _, dom := range entries(top) {
		g, ok := seen[dom]
		if !ok || !g.exists() {
			problems = append(problems, fmt.Sprintf("snapshot directory %s of a domain that does not exist, holding %q",
				filepath.Join(top, dom), entries(filepath.Join(top, dom))))
			continue
		}
		for _, n := range entries(filepath.Join(top, dom)) {
			if !strings.HasSuffix(n, ".xml") {
				continue
			}
			def, _, err := readSnapshotFile(filepath.Join(top, dom, n))
			if err == nil && def.Dom != nil && !sameUUID(def.Dom.UUID, g.UUID) {
				problems = append(problems, fmt.Sprintf("snapshot %s of %s was taken of domain %s, not of its %s",
					def.Name, dom, def.Dom.UUID, g.UUID))
			}
		}
	}
	return problems
}

func sameUUID(a, b string) bool {
	canon := func(u string) string { return strings.ToLower(strings.ReplaceAll(u, "-", "")) }
	return canon(a) == canon(b)
}
