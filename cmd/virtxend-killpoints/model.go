package main

import (
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
)

// guest is what the harness knows of one domain name: the state its
// operations left, as a restarted daemon must show it.
type guest struct {
	Defined    bool   // a persistent definition exists
	UUID       string // the domain's uuid while it exists
	MemMiB     uint   // the persistent definition's memory
	Meta       int    // the seq of its metadata element, 0 for none
	Disk       bool   // the persistent definition has the disk xvdb
	Autostart  bool
	Running    bool  // a guest runs (running, not paused)
	Paused     bool  // never wanted: a restarted daemon showing it is a fault
	ID         int32 // the running guest's domid
	LiveMemMiB uint  // the live definition's memory
	LiveMeta   int   // the live definition's metadata seq
	LiveDisk   bool  // the live definition has the disk xvdb (and the guest has it)
	// Saved: a managed save image exists, holding the live definition
	// the guest had (SavedMemMiB, SavedMeta, SavedDisk), which the next
	// start restores.
	Saved       bool
	SavedMemMiB uint
	SavedMeta   int
	SavedDisk   bool
	// Snaps are the domain's snapshots with their parents, in
	// snapTree's encoding (a string, so that guest stays comparable);
	// Current is the current one, "" for none.
	Snaps   string
	Current string
}

// anyID stands for the domid of a start not yet acknowledged: the daemon
// chooses it, so any one is right, as long as the hypervisor agrees.
const anyID = -2

func (g guest) exists() bool { return g.Defined || g.active() }

// active: a guest runs, or is paused (which the load never asks for, but
// the harness goes on from whatever a restarted daemon showed).
func (g guest) active() bool { return g.Running || g.Paused }

// normal clears what the state makes meaningless, so that two states
// compare equal when a daemon cannot tell them apart.
func (g guest) normal() guest {
	if !g.Defined {
		g.MemMiB, g.Meta, g.Disk, g.Autostart = 0, 0, false, false
	}
	if !g.active() {
		g.ID, g.LiveMemMiB, g.LiveMeta, g.LiveDisk = -1, 0, 0, false
	}
	if !g.Saved {
		g.SavedMemMiB, g.SavedMeta, g.SavedDisk = 0, 0, false
	}
	if !g.exists() {
		g.UUID, g.Snaps, g.Current = "", "", ""
	}
	return g
}

// matches reports whether got (observed) is the state want describes.
func (want guest) matches(got guest) bool {
	w, g := want.normal(), got.normal()
	if w.ID == anyID && g.Running {
		w.ID = g.ID
	}
	return w == g
}

func (g guest) String() string {
	g = g.normal()
	if !g.exists() {
		return "absent"
	}
	s := "transient"
	if g.Defined {
		s = fmt.Sprintf("defined(%s mem=%d meta=%d%s autostart=%v)", g.UUID[:8], g.MemMiB, g.Meta, diskWord(g.Disk), g.Autostart)
	}
	if g.Saved {
		s += fmt.Sprintf(" saved(mem=%d meta=%d%s)", g.SavedMemMiB, g.SavedMeta, diskWord(g.SavedDisk))
	}
	if g.Snaps != "" {
		s += fmt.Sprintf(" snapshots(%s current=%q)", g.Snaps, g.Current)
	}
	switch {
	case g.Running && g.ID == anyID:
		s += " running(id=any"
	case g.Running:
		s += fmt.Sprintf(" running(id=%d", g.ID)
	case g.Paused:
		s += fmt.Sprintf(" PAUSED(id=%d", g.ID)
	default:
		return s + " shut off"
	}
	return s + fmt.Sprintf(" mem=%d meta=%d%s)", g.LiveMemMiB, g.LiveMeta, diskWord(g.LiveDisk))
}

func diskWord(disk bool) string {
	if disk {
		return " disk=xvdb"
	}
	return ""
}

// op is one kind of operation the load makes. To add one: say when it
// applies (can),
// what it changes when acknowledged (plan), how a client makes it (do),
// which in-between states a kill may leave where the daemon makes the
// change in several writes (partial), and teach observe (check.go) to read
// whatever new state it changes, e.g. a managed-save image or a device in
// the definition.
type op struct {
	name string
	can  func(g guest) bool
	plan func(g guest, seq int, rng *rand.Rand) guest
	// do makes the call; a start returns the domid it was given.
	do      func(l *libvirt.Libvirt, name string, before, after guest) (int32, error)
	partial func(before, after guest) []guest
}

// metaURI is the namespace of the metadata element the load sets.
const metaURI = "urn:virtxend:killpoints"

var ops = []op{
	{name: "define", can: func(g guest) bool { return !g.exists() },
		plan: func(g guest, _ int, rng *rand.Rand) guest {
			return guest{Defined: true, UUID: newUUID(rng), MemMiB: 128, ID: -1}
		},
		do: defineOp},
	{name: "redefine", can: func(g guest) bool { return g.Defined },
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.MemMiB = 128 + (g.MemMiB-96)%96 // 128, 160, 192, 128...
			return g
		},
		do: defineOp},
	{name: "undefine", can: func(g guest) bool { return g.Defined && !g.Saved },
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.Defined = false
			return g
		},
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			// a shut-off domain with snapshots goes only with their
			// metadata; a running one keeps them while it runs
			var flags libvirt.DomainUndefineFlagsValues
			if before.Snaps != "" {
				flags = libvirt.DomainUndefineSnapshotsMetadata
			}
			return 0, l.DomainUndefineFlags(domRef(name, before), flags)
		}},
	{name: "start", can: func(g guest) bool { return g.Defined && !g.active() },
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.Running, g.ID, g.LiveMemMiB, g.LiveMeta, g.LiveDisk = true, anyID, g.MemMiB, g.Meta, g.Disk
			if g.Saved { // restored from the managed save image
				g.LiveMemMiB, g.LiveMeta, g.LiveDisk, g.Saved = g.SavedMemMiB, g.SavedMeta, g.SavedDisk, false
			}
			return g
		},
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			d, err := l.DomainCreateWithFlags(domRef(name, before), 0)
			return d.ID, err
		}},
	{name: "destroy", can: guest.active,
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.Running, g.Paused = false, false
			return g
		},
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			return 0, l.DomainDestroyFlags(domRef(name, before), 0)
		}},
	{name: "managedsave", can: func(g guest) bool { return g.Defined && g.Running },
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.Saved, g.SavedMemMiB, g.SavedMeta, g.SavedDisk = true, g.LiveMemMiB, g.LiveMeta, g.LiveDisk
			g.Running = false
			return g
		},
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			return 0, l.DomainManagedSave(domRef(name, before), 0)
		}},
	{name: "autostart", can: func(g guest) bool { return g.Defined },
		plan: func(g guest, _ int, _ *rand.Rand) guest {
			g.Autostart = !g.Autostart
			return g
		},
		do: func(l *libvirt.Libvirt, name string, before, after guest) (int32, error) {
			return 0, l.DomainSetAutostart(domRef(name, before), boolInt(after.Autostart))
		}},
	{name: "metadata", can: guest.exists, plan: planMetadata, do: metadataOp, partial: halves},
	{name: "attach-disk", can: func(g guest) bool { return g.exists() && !g.Paused && g.hasDisk(false) },
		plan: func(g guest, _ int, _ *rand.Rand) guest { return g.withDisk(true) },
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			return 0, l.DomainAttachDeviceFlags(domRef(name, before), diskXML, uint32(affected(before)))
		},
		partial: halves},
	{name: "detach-disk", can: func(g guest) bool { return g.exists() && !g.Paused && g.hasDisk(true) },
		plan: func(g guest, _ int, _ *rand.Rand) guest { return g.withDisk(false) },
		do: func(l *libvirt.Libvirt, name string, before, _ guest) (int32, error) {
			return 0, l.DomainDetachDeviceFlags(domRef(name, before), diskXML, uint32(affected(before)))
		},
		partial: halves},
	{name: "snapshot-redefine", can: canAddSnapshot, plan: planRedefine(false), do: redefineOp},
	{name: "snapshot-redefine-current", can: canMakeCurrent, plan: planRedefine(true), do: redefineOp,
		partial: noneCurrent},
	{name: "snapshot-delete", can: hasSnapshot, plan: planDelete, do: deleteOp(0), partial: deleteHalves},
	{name: "snapshot-delete-metadata", can: hasSnapshot, plan: planDelete,
		do: deleteOp(libvirt.DomainSnapshotDeleteMetadataOnly), partial: deleteHalves},
}

// diskXML is the disk attach-disk plugs in and detach-disk unplugs. The
// simulated host opens no image, so its file need not exist.
const diskXML = "<disk type='file' device='disk'><source file='/var/lib/kp/xvdb.img'/>" +
	"<target dev='xvdb' bus='xen'/></disk>"

// hasDisk reports whether every definition a device change affects has the
// disk (want true) or lacks it (want false). A guest whose live and
// persistent definitions disagree (a kill between the two writes) takes
// neither attach nor detach; destroy and undefine end that. A paused
// guest takes neither either: it lets no device go.
func (g guest) hasDisk(want bool) bool {
	if g.Defined && g.Disk != want {
		return false
	}
	return !g.active() || g.LiveDisk == want
}

// withDisk is g after a device change to every definition it affects.
func (g guest) withDisk(disk bool) guest {
	if g.Defined {
		g.Disk = disk
	}
	if g.active() {
		g.LiveDisk = disk
	}
	return g
}

// affected are the definitions a change to g affects: AFFECT_LIVE and
// AFFECT_CONFIG as they apply.
func affected(g guest) libvirt.DomainModificationImpact {
	var flags libvirt.DomainModificationImpact
	if g.active() {
		flags |= libvirt.DomainAffectLive
	}
	if g.Defined {
		flags |= libvirt.DomainAffectConfig
	}
	return flags
}

func defineOp(l *libvirt.Libvirt, name string, _, after guest) (int32, error) {
	_, err := l.DomainDefineXMLFlags(domainXML(name, after), 0)
	return 0, err
}

// planMetadata sets the element in the live definition of a running guest
// and in the persistent one of a defined domain (AFFECT_LIVE|CONFIG as
// they apply).
func planMetadata(g guest, seq int, _ *rand.Rand) guest {
	if g.Defined {
		g.Meta = seq
	}
	if g.active() {
		g.LiveMeta = seq
	}
	return g
}

func metadataOp(l *libvirt.Libvirt, name string, before, after guest) (int32, error) {
	flags := affected(before)
	seq := after.Meta
	if before.active() {
		seq = after.LiveMeta
	}
	elem := fmt.Sprintf("<kp seq='%d'/>", seq)
	return 0, l.DomainSetMetadata(domRef(name, before), int32(libvirt.DomainMetadataElement),
		libvirt.OptString{elem}, libvirt.OptString{"kp"}, libvirt.OptString{metaURI}, flags)
}

// halves: a change to both definitions is two writes, the status file
// then the config (as libvirt's virDomainObjSetMetadata and its device
// calls save them); a kill between them leaves one changed and not the
// other.
func halves(before, after guest) []guest {
	if !before.active() || !before.Defined {
		return nil
	}
	liveOnly, configOnly := before, before
	liveOnly.LiveMeta, liveOnly.LiveDisk = after.LiveMeta, after.LiveDisk
	configOnly.Meta, configOnly.Disk = after.Meta, after.Disk
	return []guest{liveOnly, configOnly}
}

// pickOp chooses, uniformly, an operation that applies to g.
func pickOp(rng *rand.Rand, g guest) op {
	var can []op
	for _, o := range ops {
		if o.can(g) {
			can = append(can, o)
		}
	}
	return can[rng.Intn(len(can))]
}

// domainXML is a small PV guest with the persistent state of g.
func domainXML(name string, g guest) string {
	// the simulated host saves it in about 40 ms, within a kill's reach
	meta := "<sim:fault xmlns:sim='urn:virtxend:sim' save-rate='3000'/>"
	if g.Meta > 0 {
		meta += fmt.Sprintf("<kp:kp xmlns:kp='%s' seq='%d'/>", metaURI, g.Meta)
	}
	meta = "<metadata>" + meta + "</metadata>"
	devices := ""
	if g.Disk {
		devices = "<devices>" + diskXML + "</devices>"
	}
	return fmt.Sprintf("<domain type='xen'><name>%s</name><uuid>%s</uuid><memory unit='MiB'>%d</memory>"+
		"<vcpu>1</vcpu><os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>"+
		"%s%s</domain>", name, g.UUID, g.MemMiB, meta, devices)
}

// domRef is how a client names the domain: the daemon resolves it by uuid.
func domRef(name string, g guest) libvirt.Domain {
	var u libvirt.UUID
	hex.Decode(u[:], []byte(strings.ReplaceAll(g.UUID, "-", "")))
	return libvirt.Domain{Name: name, UUID: u, ID: -1}
}

func newUUID(rng *rand.Rand) string {
	var u [16]byte
	rng.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
