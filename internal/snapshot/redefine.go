package snapshot

import (
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// RedefinePrep is virDomainSnapshotRedefinePrep, the checks of
// VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE before the definition goes in: the
// parent must exist and not make a cycle, the definition must suit the
// domain vm (its UUID) and the snapshot it replaces, if any (returned,
// nil for a new one), and its disks are aligned (external if it is
// disk-only or external, else internal, every disk alike). diskOnly is
// VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY. The caller then calls Replace
// for an existing snapshot, else Add.
func (t *Tree) RedefinePrep(def *Def, vm *libvirtxml.Domain, diskOnly bool) (*Snapshot, error) {
	if err := t.checkCycles(def, vm.Name); err != nil {
		return nil, err
	}
	other := t.Lookup(def.Name)
	if err := t.redefineValidate(def, vm.UUID, other, diskOnly); err != nil {
		return nil, err
	}
	align := LocationInternal
	if def.State == StateDiskSnapshot || def.IsExternal() {
		align = LocationExternal
	}
	var otherDom *libvirtxml.Domain
	if other != nil {
		otherDom = other.Def.Dom
	}
	if err := AlignDisks(def, otherDom, align, true, false); err != nil {
		return nil, err
	}
	return other, nil
}

// checkCycles is virDomainMomentCheckCycles: def's parent must exist and
// must not descend from def. domName is for the warning about a chain
// that breaks off.
func (t *Tree) checkCycles(def *Def, domName string) error {
	if def.ParentName == "" {
		return nil
	}
	if def.Name == def.ParentName {
		return domainErr(libvirt.ErrInvalidArg, "cannot set moment %s as its own parent", def.Name)
	}
	other := t.Lookup(def.ParentName)
	if other == nil {
		return domainErr(libvirt.ErrInvalidArg, "parent %s for moment %s not found", def.ParentName, def.Name)
	}
	// libvirt would loop on a cycle not through def; the bound stops it.
	for steps := 0; other.Def.ParentName != ""; steps++ {
		if other.Def.ParentName == def.Name {
			return domainErr(libvirt.ErrInvalidArg, "parent %s would create cycle to %s", other.Def.Name, def.Name)
		}
		other = t.Lookup(other.Def.ParentName)
		if other == nil || steps > len(t.byName) {
			t.warn("moments are inconsistent for domain %s", domName)
			break
		}
	}
	return nil
}

// redefineValidate is virDomainSnapshotRedefineValidate.
func (t *Tree) redefineValidate(def *Def, domUUID string, other *Snapshot, diskOnly bool) error {
	if diskOnly && def.State != StateDiskSnapshot {
		return snapErr(libvirt.ErrInvalidArg, "disk-only flag for snapshot %s requires disk-snapshot state", def.Name)
	}
	if def.Dom != nil && canonicalUUID(def.Dom.UUID) != canonicalUUID(domUUID) {
		return snapErr(libvirt.ErrInvalidArg, "definition for snapshot %s must use uuid %s", def.Name, formatUUID(domUUID))
	}
	if other == nil {
		return nil
	}
	online := func(s State) bool { return s == StateRunning || s == StatePaused }
	if online(other.Def.State) != online(def.State) {
		return snapErr(libvirt.ErrInvalidArg,
			"cannot change between online and offline snapshot state in snapshot %s", def.Name)
	}
	if other.Def.IsDiskOnly() != def.IsDiskOnly() {
		return snapErr(libvirt.ErrInvalidArg,
			"cannot change between disk only and full system in snapshot %s", def.Name)
	}
	if other.Def.Dom != nil && def.Dom != nil {
		check := t.CheckABI
		if check == nil {
			check = checkABI
		}
		return check(other.Def.Dom, def.Dom)
	}
	return nil
}

// checkABI is the start of virDomainDefCheckABIStability: the
// virtualization type, the UUID and the name must stay.
func checkABI(src, dst *libvirtxml.Domain) error {
	if src.Type != dst.Type {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain virt type %s does not match source %s", dst.Type, src.Type)
	}
	if canonicalUUID(src.UUID) != canonicalUUID(dst.UUID) {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain uuid %s does not match source %s", formatUUID(dst.UUID), formatUUID(src.UUID))
	}
	if src.Name != dst.Name {
		return domainErr(libvirt.ErrConfigUnsupported,
			"Target domain name '%s' does not match source '%s'", dst.Name, src.Name)
	}
	return nil
}

// canonicalUUID is a UUID's 32 hex digits in lower case, which is how
// libvirt compares them (as bytes).
func canonicalUUID(u string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(u), "-", ""))
}

// formatUUID is virUUIDFormat's form of u.
func formatUUID(u string) string {
	h := canonicalUUID(u)
	if len(h) != 32 {
		return u
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
