package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/driver"
	"virtxend/internal/paths"
	"virtxend/internal/saveimage"
	"virtxend/internal/store"
)

// checkFiles looks at the files the daemon keeps: every one is whole (its
// old or its new content, never a mix), and no domain has two snapshots
// marked current. Straight after a kill (justKilled)
// the temporaries of writes in flight and the autostart link of an
// undefine killed half-way may remain, and are counted as leftovers, which
// the next start must remove; after a restart, any is a problem.
func checkFiles(root string, justKilled bool) (leftovers int, problems []string) {
	p := paths.Under(root)
	left := findTemps(root)
	dangling, linkProblems := checkLinks(p)
	left = append(left, dangling...)
	if justKilled {
		leftovers = len(left)
	} else {
		for _, l := range left {
			problems = append(problems, "left after the restart: "+l)
		}
	}
	problems = append(problems, checkConfigs(p)...)
	problems = append(problems, linkProblems...)
	problems = append(problems, checkStatuses(p)...)
	problems = append(problems, checkSnapshotFiles(p)...)
	if !justKilled {
		problems = append(problems, checkImages(p)...)
	}
	hostJSON := filepath.Join(p.SimHostDir(), "host.json")
	if b, err := os.ReadFile(hostJSON); err == nil && !json.Valid(b) {
		problems = append(problems, "half-written "+hostJSON)
	}
	marker := p.AutostartMarker()
	if b, err := os.ReadFile(marker); err == nil && (len(b) < 2 || b[len(b)-1] != '\n') {
		problems = append(problems, fmt.Sprintf("half-written %s: %q", marker, b))
	}
	return leftovers, problems
}

// findTemps lists the temporary files (internal/store's) below root but
// the console daemon's. That is a process of the simulated host, as
// xenconsoled is of Xen's: the kills do not touch it, it rewrites its
// consoles.json whenever guests come and go (so a temporary of it may be
// in flight at any look), and its own start removes what a killed one
// left (internal/backend/sim's tests).
func findTemps(root string) []string {
	var found []string
	filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err == nil && store.IsTemp(e.Name()) && !strings.HasPrefix(e.Name(), ".consoles.json.tmp-") {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// entries lists dir's names that are not temporaries.
func entries(dir string) []string {
	es, _ := os.ReadDir(dir)
	var names []string
	for _, e := range es {
		if !store.IsTemp(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func checkConfigs(p paths.Paths) []string {
	var problems []string
	dir := p.DomainConfigDir()
	for _, n := range entries(dir) {
		stem, ok := strings.CutSuffix(n, ".xml")
		if n == "autostart" || !ok {
			if n != "autostart" {
				problems = append(problems, "unexpected file "+filepath.Join(dir, n))
			}
			continue
		}
		var def libvirtxml.Domain
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil {
			err = def.Unmarshal(string(b))
		}
		if err != nil || def.Name != stem || def.UUID == "" || def.Memory == nil {
			problems = append(problems, fmt.Sprintf("half-written config %s (%v):\n%s", n, err, b))
		}
	}
	return problems
}

// checkLinks: every autostart link points at its domain's config. It
// returns the links whose config does not exist (dangling): an undefine
// removes the config, then the link.
func checkLinks(p paths.Paths) (dangling, problems []string) {
	dir := p.AutostartDir()
	for _, n := range entries(dir) {
		link := filepath.Join(dir, n)
		target, err := os.Readlink(link)
		if want := filepath.Join(p.DomainConfigDir(), n); err != nil || target != want {
			problems = append(problems, fmt.Sprintf("autostart link %s points at %q (%v)", link, target, err))
		} else if _, err := os.Stat(target); err != nil {
			dangling = append(dangling, "autostart link "+link+" to no config")
		}
	}
	return dangling, problems
}

// checkImages: after a restart every managed save image is complete (the
// restarted daemon removes what a save cut short left).
func checkImages(p paths.Paths) []string {
	var problems []string
	for _, n := range entries(p.SaveDir()) {
		f, err := os.Open(filepath.Join(p.SaveDir(), n))
		if err == nil {
			_, _, err = saveimage.Read(f)
			f.Close()
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("managed save image %s: %v", n, err))
		}
	}
	return problems
}

// domStatus is the driver's status file (libvirt's layout), read as far
// as this check needs: its state, and its definition with the domid.
type domStatus struct {
	XMLName xml.Name          `xml:"domstatus"`
	State   string            `xml:"state,attr"`
	Domain  libvirtxml.Domain `xml:"domain"`
}

func checkStatuses(p paths.Paths) []string {
	var problems []string
	dir := p.StateDir()
	for _, n := range entries(dir) {
		stem, ok := strings.CutSuffix(n, ".xml")
		if !ok {
			switch n {
			case filepath.Base(p.DriverLock()), filepath.Base(p.AutostartMarker()):
			case filepath.Base(p.HostdevState()):
				problems = append(problems, checkHostdevState(p.HostdevState())...)
			default:
				problems = append(problems, "unexpected file "+filepath.Join(dir, n))
			}
			continue
		}
		var st domStatus
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil {
			err = xml.Unmarshal(b, &st)
		}
		if err != nil || st.Domain.Name != stem || st.State == "" || st.Domain.ID == nil || *st.Domain.ID <= 0 {
			problems = append(problems, fmt.Sprintf("half-written status %s (%v):\n%s", n, err, b))
		}
	}
	return problems
}

// observe reads what a daemon shows of name.
func observe(l *libvirt.Libvirt, name string) (guest, error) {
	d, err := l.DomainLookupByName(name)
	if libvirt.IsNotFound(err) {
		return guest{ID: -1}, nil
	}
	if err != nil {
		return guest{}, err
	}
	g := guest{UUID: uuidString(d.UUID), ID: -1}
	state, _, err := l.DomainGetState(d, 0)
	if err != nil {
		return guest{}, err
	}
	switch libvirt.DomainState(state) {
	case libvirt.DomainRunning:
		g.Running = true
	case libvirt.DomainPaused:
		g.Paused = true
	case libvirt.DomainShutoff:
	default:
		return guest{}, fmt.Errorf("%s is in state %d", name, state)
	}
	if g.Snaps, g.Current, err = readSnapshots(l, d); err != nil {
		return guest{}, err
	}
	if g.Running || g.Paused {
		g.ID = d.ID
		if g.LiveMemMiB, g.LiveMeta, g.LiveDisk, err = readDef(l, d, 0); err != nil {
			return guest{}, err
		}
	}
	persistent, err := l.DomainIsPersistent(d)
	if err != nil || persistent == 0 {
		return g, err
	}
	g.Defined = true
	if g.MemMiB, g.Meta, g.Disk, err = readDef(l, d, libvirt.DomainXMLInactive); err != nil {
		return guest{}, err
	}
	autostart, err := l.DomainGetAutostart(d)
	if err != nil {
		return guest{}, err
	}
	g.Autostart = autostart == 1
	saved, err := l.DomainHasManagedSaveImage(d, 0)
	if err != nil || saved != 1 {
		return g, err
	}
	g.Saved = true
	x, err := l.DomainManagedSaveGetXMLDesc(d, 0)
	if err == nil {
		g.SavedMemMiB, g.SavedMeta, g.SavedDisk, err = parseDef(x)
	}
	return g, err
}

var seqAttr = regexp.MustCompile(`seq=['"](\d+)['"]`)

// readDef reads the memory, the metadata seq and whether the disk xvdb is
// there of a definition.
func readDef(l *libvirt.Libvirt, d libvirt.Domain, flags libvirt.DomainXMLFlags) (memMiB uint, meta int, disk bool, err error) {
	s, err := l.DomainGetXMLDesc(d, flags)
	if err != nil {
		return 0, 0, false, err
	}
	return parseDef(s)
}

// parseDef reads what readDef reads from a definition's XML.
func parseDef(s string) (memMiB uint, meta int, disk bool, err error) {
	var def libvirtxml.Domain
	if err := def.Unmarshal(s); err != nil {
		return 0, 0, false, err
	}
	if def.Memory == nil || (def.Memory.Unit != "KiB" && def.Memory.Unit != "") {
		return 0, 0, false, fmt.Errorf("memory of %s: %+v", def.Name, def.Memory)
	}
	if m := seqAttr.FindStringSubmatch(s); m != nil {
		meta, _ = strconv.Atoi(m[1])
	}
	if def.Devices != nil {
		for _, dk := range def.Devices.Disks {
			disk = disk || dk.Target != nil && dk.Target.Dev == "xvdb"
		}
	}
	return def.Memory.Value / 1024, meta, disk, nil
}

func uuidString(u libvirt.UUID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// checkHost compares the simulated hypervisor's guests with what the
// daemon showed: each guest the driver started is a running domain with
// its domid and uuid, and the disk xvdb exactly when the daemon shows it,
// and each running domain has its guest.
func checkHost(root string, seen map[string]guest) []string {
	p := paths.Under(root)
	cfg, err := config.LoadLibxl(p.LibxlConfig())
	if err != nil {
		return []string{err.Error()}
	}
	h, err := sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), PollInterval: -1})
	if err != nil {
		return []string{"simulated host: " + err.Error()}
	}
	defer h.Close()
	guests, err := h.Guests(context.Background())
	if err != nil {
		return []string{"simulated host: " + err.Error()}
	}
	var problems []string
	onHost := map[int32]bool{}
	for _, hg := range guests {
		if hg.Marker != driver.Marker {
			continue
		}
		onHost[int32(hg.DomID)] = true
		g, ok := seen[hg.Name]
		if !ok || !(g.Running || g.Paused) || g.ID != int32(hg.DomID) || g.UUID != hg.UUID.String() {
			problems = append(problems, fmt.Sprintf("guest %s (domid %d) runs on the host; the daemon shows %v",
				hg.Name, hg.DomID, g))
		} else if has, err := hostHasDisk(h, hg.DomID); err != nil || has != g.LiveDisk {
			problems = append(problems, fmt.Sprintf("guest %s (domid %d) has the disk xvdb on the host: %v (%v); the daemon shows %v",
				hg.Name, hg.DomID, has, err, g))
		}
	}
	for name, g := range seen {
		if (g.Running || g.Paused) && !onHost[g.ID] {
			problems = append(problems, fmt.Sprintf("%s shown running as domid %d, which the host does not run", name, g.ID))
		}
	}
	return problems
}

// hostHasDisk reports whether the host's guest id has the disk xvdb.
func hostHasDisk(h *sim.Host, id backend.DomID) (bool, error) {
	st, err := h.Stats(context.Background(), []backend.DomID{id})
	if err != nil || len(st) != 1 {
		return false, fmt.Errorf("stats of %d: %d, %v", id, len(st), err)
	}
	for _, d := range st[0].Disks {
		if d.Vdev == "xvdb" {
			return true, nil
		}
	}
	return false, nil
}

// checkHostdevState: the books of host devices, when the driver wrote
// them, are whole (the load has no PCI or USB devices to give guests).
func checkHostdevState(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("host devices' state: %v", err)}
	}
	var st struct {
		Active, Inactive, USB []json.RawMessage
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return []string{fmt.Sprintf("host devices' state %s is not whole: %v", path, err)}
	}
	return nil
}
