package driver

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/store"
)

// configHeader heads every persistent config, as libvirt warns against
// editing its files by hand.
const configHeader = `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit %s
or other application using the libvirt API.
-->

`

func (drv *Driver) configPath(name string) string {
	return filepath.Join(drv.paths.DomainConfigDir(), name+".xml")
}

func (drv *Driver) autostartPath(name string) string {
	return filepath.Join(drv.paths.AutostartDir(), name+".xml")
}

func (drv *Driver) statusPath(name string) string {
	return filepath.Join(drv.paths.StateDir(), name+".xml")
}

func (drv *Driver) managedSavePath(name string) string {
	return filepath.Join(drv.paths.SaveDir(), name+".save")
}

func (drv *Driver) hasManagedSave(name string) bool {
	_, err := os.Stat(drv.managedSavePath(name))
	return err == nil
}

// formatDef is the XML of def with dumpxml's flags; id is shown only
// when the view is live (FormatInactive unset) and the domain has one.
func formatDef(def *libvirtxml.Domain, id int32, flags domxml.FormatFlag) (string, error) {
	return formatLive(def, id, flags, nil)
}

// formatLive is formatDef showing the interfaces that have network ports
// with their actual devices, as libvirt's dumpxml does.
func formatLive(def *libvirtxml.Domain, id int32, flags domxml.FormatFlag, ports domxml.Ports) (string, error) {
	c := *def
	c.ID = nil
	if flags&domxml.FormatInactive == 0 && id >= 0 {
		v := int(id)
		c.ID = &v
	}
	s, err := domxml.FormatWithPorts(&c, flags, ports)
	if err != nil {
		return "", libxlErr(libvirt.ErrInternalError, "cannot format domain '%s': %v", def.Name, err)
	}
	return s, nil
}

// writeConfig saves a persistent definition (virDomainDefSave) and
// returns it in its saved form, to be kept while no guest runs from it.
func (drv *Driver) writeConfig(def *libvirtxml.Domain) (*definition, error) {
	// Saved files keep secrets, as libvirt saves with the SECURE flag.
	s, err := formatDef(def, -1, domxml.FormatInactive|domxml.FormatSecure)
	if err != nil {
		return nil, err
	}
	path := drv.configPath(def.Name)
	if err := store.WriteFile(path, []byte(configFile(def.Name, s)), 0o600); err != nil {
		return nil, errSystem(err, "cannot save config file '%s'", path)
	}
	saved := savedDef(def, s)
	drv.packLater(saved)
	return saved, nil
}

// configFile is a config file's content: the header, then the text.
func configFile(name, text string) string {
	data := fmt.Sprintf(configHeader, name) + text
	if !strings.HasSuffix(data, "\n") {
		data += "\n"
	}
	return data
}

// deleteConfig removes the config, then the autostart link. A kill in
// between leaves a link to no config, which the next start removes
// (removeStaleLinks), so that an undefine is done or not done, never half.
// libvirt's virDomainDeleteConfig removes the link first, and a kill in
// between then leaves a defined domain that no longer autostarts: a change
// no client made (the kill-point harness found it). If the link cannot be
// removed, the config is put back and the undefine fails having changed
// nothing.
func (drv *Driver) deleteConfig(name string) error {
	path, link := drv.configPath(name), drv.autostartPath(name)
	// The config is read only to be put back should the link stay: the
	// undefine of a domain that does not autostart reads nothing.
	_, err := os.Lstat(link)
	hasLink := !errors.Is(err, fs.ErrNotExist)
	var saved []byte
	if hasLink {
		if saved, err = os.ReadFile(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return errSystem(err, "cannot read config %s", path)
		}
	}
	if err := store.Remove(path); err != nil {
		return errSystem(err, "cannot remove config %s", path)
	}
	if !hasLink {
		return nil
	}
	if err := store.Remove(link); err != nil {
		if saved != nil {
			if rerr := store.WriteFile(path, saved, 0o600); rerr != nil {
				drv.log.Error("cannot put back the config of a failed undefine", "path", path, "err", rerr)
			}
		}
		return errSystem(err, "Failed to delete autostart link '%s'", link)
	}
	return nil
}

// removeStaleLinks removes the autostart links of domains that have no
// config: what an undefine killed between its two removals leaves. Kept, such
// a link would make the next domain defined with that name autostart.
func (drv *Driver) removeStaleLinks() error {
	names, err := store.ListNames(drv.paths.AutostartDir(), ".xml")
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := os.Lstat(drv.configPath(name)); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := store.Remove(drv.autostartPath(name)); err != nil {
			return fmt.Errorf("cannot remove stale autostart link: %w", err)
		}
		drv.log.Info("removed the autostart link of a domain with no config", "domain", name)
	}
	return nil
}

// statusFile is the live status of a running domain, laid out as
// libvirt's virDomainObjFormat writes it: <domstatus> with the state and
// its reason by name and a pid (0: libvirt's Xen driver has no process of
// its own per guest), around the live definition, which carries the
// domid. libvirt's own Xen daemon and this one thus each take over the
// guests the other leaves running, with the same files in the same
// place. After the definition come what only this daemon reads and
// libvirt passes over (it reads the file by XPath): the network ports of
// the interfaces, as the network driver gave them (what libvirt keeps as
// each interface's <actual>), a disk hotplug, save or migration under way,
// and the block jobs. A status file of an earlier virtxend (the state and
// reason as numbers, the domid an attribute) is read too.
type statusFile struct {
	XMLName xml.Name `xml:"domstatus"`
	State   string   `xml:"state,attr"`
	Reason  string   `xml:"reason,attr"`
	// DomID is the attribute of an earlier virtxend's files: the domid
	// is the definition's id now, as in libvirt's.
	DomID   int32             `xml:"domid,attr"`
	Domain  libvirtxml.Domain `xml:"domain"`
	Ports   []rawPort         `xml:"networkport"`
	Hotplug *hotplugInFlight  `xml:"hotplug"`
	Saving  *saveInFlight     `xml:"saving"`
	// Migrating is a migration under way (migrate_recover.go).
	Migrating *migrationInFlight `xml:"migrating"`
	// BlockJobs are the block jobs running (blockjob_status.go).
	BlockJobs []blockJobRecord `xml:"blockjob"`
	parsed    domxml.Ports
	// state, reason and id are what the attributes and the definition say.
	state  libvirt.DomainState
	reason int32
	id     int32
	// numeric is set for an earlier virtxend's file, which libvirt
	// cannot read: it is written anew once the domain is reconnected.
	numeric bool
}

// rawPort is a network port as the status file has it, read as the
// network driver's description of it is (domxml.ParseNetworkPort).
type rawPort struct {
	Inner string `xml:",innerxml"`
}

// readPorts reads the status file's network ports: one libvirt would not
// take from the network driver makes the file unreadable.
func (st *statusFile) readPorts() error {
	for _, r := range st.Ports {
		p, err := domxml.ParseNetworkPort("<networkport>" + r.Inner + "</networkport>")
		if err != nil {
			return err
		}
		if st.parsed == nil {
			st.parsed = domxml.Ports{}
		}
		st.parsed[p.UUID] = p
	}
	return nil
}

// ports are the status file's network ports by id.
func (st *statusFile) ports() domxml.Ports {
	return st.parsed
}

// writeStatus saves the live status of an active domain (virDomainObjSave).
func (drv *Driver) writeStatus(s snapshot) error {
	x, err := formatDef(s.def.parsed(), s.ref.ID, domxml.FormatSecure)
	if err != nil {
		return err
	}
	ports, err := portsXML(s.netPorts)
	if err != nil {
		return err
	}
	hotplug, err := s.hotplug.xml()
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "%v", err)
	}
	saving, err := s.saving.xml()
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "%v", err)
	}
	migrating, err := s.migrating.xml()
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "%v", err)
	}
	blockJobs, err := blockJobsXML(s.blockJobRecs)
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "%v", err)
	}
	state, reason := stateNamesOf(s.state, s.reason)
	data := fmt.Sprintf("<domstatus state='%s' reason='%s' pid='0'>\n%s%s%s%s%s%s</domstatus>\n",
		state, reason, strings.TrimSuffix(x, "\n")+"\n", ports, hotplug, saving, migrating, blockJobs)
	path := drv.statusPath(s.ref.Name)
	if err := store.WriteFile(path, []byte(data), 0o600); err != nil {
		return errSystem(err, "cannot save status file '%s'", path)
	}
	return nil
}

// sameStatus reports whether a and b make the same status file.
func sameStatus(a, b snapshot) bool {
	return a.ref == b.ref && a.def == b.def && a.state == b.state && a.reason == b.reason &&
		samePorts(a.netPorts, b.netPorts) && a.hotplug == b.hotplug && a.saving == b.saving &&
		a.migrating == b.migrating && sameBlockJobRecords(a.blockJobRecs, b.blockJobRecs)
}

// portsXML is the ports' XML for the status file, in a stable order.
func portsXML(ports domxml.Ports) (string, error) {
	ids := make([]string, 0, len(ports))
	for id := range ports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		x, err := ports[id].Marshal()
		if err != nil {
			return "", libxlErr(libvirt.ErrInternalError, "cannot format network port %s: %v", id, err)
		}
		b.WriteString(x + "\n")
	}
	return b.String(), nil
}

func (drv *Driver) removeStatus(name string) {
	if err := store.Remove(drv.statusPath(name)); err != nil {
		drv.log.Warn("cannot remove status file", "domain", name, "err", err)
	}
}

// readStatus loads a status file.
func readStatus(path string) (*statusFile, *libvirtxml.Domain, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	st := &statusFile{}
	if err := xml.Unmarshal(b, st); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := st.readPorts(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Domain.XMLName.Local != "domain" {
		return nil, nil, fmt.Errorf("%s: no domain config", path)
	}
	if err := st.readState(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	def := &st.Domain
	st.id = st.DomID
	if st.id == 0 && def.ID != nil {
		st.id = int32(*def.ID)
	}
	def.ID = nil
	return st, def, nil
}

// readConfig loads and parses a persistent config.
func readConfig(path string) (*libvirtxml.Domain, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	def, err := parseConfig(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return def, nil
}

// parseConfig parses a config's text. Like libvirt it accepts a text that
// parses but no longer validates (validation may have grown stricter).
func parseConfig(text string) (*libvirtxml.Domain, error) {
	if def, err := domxml.Parse(text); err == nil {
		return def, nil
	}
	def := &libvirtxml.Domain{}
	if err := def.Unmarshal(text); err != nil {
		return nil, err
	}
	return def, nil
}

// loadSaved reads a persistent config as a saved definition, with its
// name and uuid. A config laid out as this daemon (and libvirt) writes
// one, name and uuid first, is parsed only when an operation needs it:
// loading 10,000 of them takes a tenth of a second rather than the
// seconds their parses take. Any other is parsed now, so that one that
// does not parse is refused here, as libvirt refuses it at start.
func loadSaved(path string) (*definition, string, backend.UUID, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", backend.UUID{}, err
	}
	text := string(b)
	if body, name, uuidText, ok := scanIdentity(text); ok {
		if uuid, err := backend.ParseUUID(uuidText); err == nil {
			// The name is kept as long as the domain, the text only until
			// it is packed: the name must not hold on to the whole file.
			name = strings.Clone(name)
			return loadedDef(body, nil), name, uuid, nil
		}
	}
	def, err := parseConfig(text)
	if err != nil {
		return nil, "", backend.UUID{}, fmt.Errorf("%s: %w", path, err)
	}
	uuid, err := backend.ParseUUID(def.UUID)
	if err != nil {
		return nil, "", backend.UUID{}, err
	}
	return loadedDef(text, def), def.Name, uuid, nil
}

// scanIdentity reads the name and uuid from a config laid out as
// writeConfig writes one: the header naming the domain, then the root
// element (no markup within its tag), then name and uuid, each on its own
// line and holding no markup or entity. body is the text after the
// header; ok is false for any other layout.
func scanIdentity(text string) (body, name, uuid string, ok bool) {
	before, after, _ := strings.Cut(configHeader, "%s")
	rest, ok := strings.CutPrefix(text, before)
	if !ok {
		return "", "", "", false
	}
	edited, body, ok := strings.Cut(rest, after)
	if !ok || !strings.HasPrefix(body, "<domain ") {
		return "", "", "", false
	}
	tag, rest, ok := strings.Cut(body, ">\n  <name>")
	if !ok || strings.ContainsAny(tag[1:], "<>") {
		return "", "", "", false
	}
	name, rest, ok = strings.Cut(rest, "</name>\n  <uuid>")
	if !ok || name != edited || name == "" || strings.ContainsAny(name, "<>&\n") {
		return "", "", "", false
	}
	uuid, _, ok = strings.Cut(rest, "</uuid>\n")
	if !ok || strings.ContainsAny(uuid, "<>&") {
		return "", "", "", false
	}
	return body, name, uuid, true
}
