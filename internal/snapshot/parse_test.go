package snapshot

import (
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

const xenDomain = `<domain type='xen'><name>vm1</name><uuid>6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a</uuid>` +
	`<memory>262144</memory><os><type>linux</type><kernel>/k</kernel></os>` +
	`<devices><disk type='file' device='disk'><source file='/var/lib/xen/vm1.qcow2'/><target dev='xvda'/></disk>` +
	`<disk type='file' device='disk'><source file='/var/lib/xen/data.img'/><target dev='xvdb'/></disk></devices></domain>`

func redefineDoc(inner string) string {
	return "<domainsnapshot><name>s1</name><creationTime>100</creationTime>" + inner + "</domainsnapshot>"
}

// Every refusal of virDomainSnapshotDefParse and the helpers it calls,
// with the code, domain and text libvirt reports.
func TestParseErrors(t *testing.T) {
	running := "<state>running</state>"
	cases := []struct {
		doc   string
		flags ParseFlag
		dom   virerr.Domain
		code  virerr.Code
		msg   string
	}{
		{"<domain/>", 0, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: expecting root element of 'domainsnapshot', not 'domain'"},
		{"<domainsnapshot/>", ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: a redefined snapshot must have a name"},
		{"<domainsnapshot><name></name></domainsnapshot>", ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: a redefined snapshot must have a name"},
		{"<domainsnapshot><name>s</name></domainsnapshot>", ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrInternalError,
			"internal error: missing creationTime from existing snapshot"},
		{"<domainsnapshot><name>s</name><creationTime>12 </creationTime></domainsnapshot>", ParseRedefine,
			virerr.FromDomainSnapshot, libvirt.ErrInternalError, "internal error: missing creationTime from existing snapshot"},
		{redefineDoc(""), ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: missing state from existing snapshot"},
		{redefineDoc("<state>nostate</state>"), ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrConfigUnsupported,
			"unsupported configuration: Invalid state 'nostate' in domain snapshot XML"},
		{redefineDoc("<state>asleep</state>"), ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrConfigUnsupported,
			"unsupported configuration: Invalid state 'asleep' in domain snapshot XML"},
		{"<domainsnapshot><memory snapshot='manual'/></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: 'manual' memory snapshot mode not supported"},
		{"<domainsnapshot><memory snapshot='default'/></domainsnapshot>", 0, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'snapshot' in element 'memory': 'default'."},
		{"<domainsnapshot><memory snapshot='internal' file='/m'/></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: memory filename '/m' requires external snapshot"},
		{"<domainsnapshot><memory snapshot='external'/></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: external memory snapshots require a filename"},
		{"<domainsnapshot><memory snapshot='internal'/></domainsnapshot>", ParseOffline, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: memory state cannot be saved with offline or disk-only snapshot"},
		{redefineDoc("<state>disk-snapshot</state><memory file='/m'/>"), ParseRedefine, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: memory state cannot be saved with offline or disk-only snapshot"},
		{"<domainsnapshot><memory file='m'/></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: memory snapshot file path (m) must be absolute"},
		{"<domainsnapshot><memory file=''/></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: memory snapshot file path () must be absolute"},
		{"<domainsnapshot><disks><disk/></disks></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrInternalError,
			"internal error: missing name from disk snapshot element"},
		{"<domainsnapshot><disks><disk name='a' snapshot='maybe'/></disks></domainsnapshot>", 0, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'snapshot' in element 'disk': 'maybe'."},
		{"<domainsnapshot><disks><disk name='a' type='none'/></disks></domainsnapshot>", 0, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'type' in element 'disk': 'none'."},
		{"<domainsnapshot><disks><disk name='a' type='dir'/></disks></domainsnapshot>", 0, virerr.FromDomainSnapshot, libvirt.ErrXMLError,
			"XML error: unsupported disk snapshot type 'dir'"},
		{"<domainsnapshot><disks><disk name='a'><driver type='qcow9'/></disk></disks></domainsnapshot>", 0,
			virerr.FromDomainSnapshot, libvirt.ErrConfigUnsupported, "unsupported configuration: unknown disk snapshot driver 'qcow9'"},
		{"<domainsnapshot><disks><disk name='a'><driver type='none'/></disk></disks></domainsnapshot>", 0,
			virerr.FromDomainSnapshot, libvirt.ErrConfigUnsupported, "unsupported configuration: unknown disk snapshot driver 'none'"},
		{"<domainsnapshot><disks><disk name='a'><source file='rel.qcow2'/></disk></disks></domainsnapshot>", 0,
			virerr.FromDomainSnapshot, libvirt.ErrXMLError, "XML error: disk snapshot image path 'rel.qcow2' must be absolute"},
		{"<domainsnapshot><disks><disk name='a'><driver><metadata_cache><max_size>1x</max_size></metadata_cache></driver></disk></disks></domainsnapshot>", 0,
			virerr.FromXML, libvirt.ErrXMLError, "XML error: Invalid value '1x' for element or attribute './driver/metadata_cache/max_size'"},
		{"<domainsnapshot><disks><disk name='a'><driver><metadata_cache><max_size unit='zz'>1</max_size></metadata_cache></driver></disk></disks></domainsnapshot>", 0,
			virerr.FromNone, libvirt.ErrInvalidArg, "invalid argument: unknown suffix 'zz'"},
		{"<domainsnapshot><disks><disk name='a'><driver><metadata_cache><max_size unit='EiB'>16</max_size></metadata_cache></driver></disk></disks></domainsnapshot>", 0,
			virerr.FromNone, libvirt.ErrOverflow, "numerical overflow: value too large: 16EiB"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source name='x'/></disk></disks></domainsnapshot>", 0,
			virerr.FromXML, libvirt.ErrXMLError, "XML error: Missing required attribute 'protocol' in element 'source'"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='smb' name='x'/></disk></disks></domainsnapshot>", 0,
			virerr.FromXML, libvirt.ErrXMLError, "XML error: Invalid value for attribute 'protocol' in element 'source': 'smb'."},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='iscsi'/></disk></disks></domainsnapshot>", 0,
			virerr.FromDomain, libvirt.ErrXMLError, "XML error: missing name for disk source"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='rbd' name='/img'/></disk></disks></domainsnapshot>", 0,
			virerr.FromDomain, libvirt.ErrXMLError, "XML error: can't split path '/img' into pool name and image name"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='nbd'><host name='h' port='99999'/></source></disk></disks></domainsnapshot>", 0,
			virerr.FromNone, libvirt.ErrInvalidArg, "invalid argument: port '99999' out of range"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='nbd'><host name='h' port='p'/></source></disk></disks></domainsnapshot>", 0,
			virerr.FromNone, libvirt.ErrInvalidArg, "invalid argument: failed to parse port number 'p'"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='nbd'><host transport='unix'/></source></disk></disks></domainsnapshot>", 0,
			virerr.FromDomain, libvirt.ErrXMLError, "XML error: missing socket for unix transport"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='nbd'><host port='1'/></source></disk></disks></domainsnapshot>", 0,
			virerr.FromDomain, libvirt.ErrXMLError, "XML error: missing name for host"},
		{"<domainsnapshot><disks><disk name='a' type='network'><source protocol='nbd' tls='maybe'/></disk></disks></domainsnapshot>", 0,
			virerr.FromXML, libvirt.ErrXMLError, "XML error: Invalid value for attribute 'tls' in element 'source': 'maybe'."},
		{"<domainsnapshot><name>s</name></domainsnapshot>", ParseInternal, virerr.FromDomainSnapshot, libvirt.ErrInternalError,
			"internal error: Could not find 'active' element"},
		{redefineDoc(running + "<domain type='xen'><memory>1</memory></domain>"), ParseRedefine, virerr.FromDomain, libvirt.ErrNoName,
			"missing name information"},
	}
	for _, c := range cases {
		_, err := Parse(c.doc, c.flags)
		e := virerr.As(err)
		if err == nil || e.Domain != c.dom || e.Code != c.code || e.Error() != c.msg {
			t.Errorf("%s (flags %d):\n got %v (domain %d code %d)\nwant %s (domain %d code %d)",
				c.doc, c.flags, err, e.Domain, e.Code, c.msg, c.dom, c.code)
		}
	}
}

// A document that is not XML is the snapshot parser's XML error.
func TestParseNotWellFormed(t *testing.T) {
	_, err := Parse("<domainsnapshot><name>x</domainsnapshot>", 0)
	e := virerr.As(err)
	if e.Domain != virerr.FromDomainSnapshot || e.Code != libvirt.ErrXMLDetail ||
		!strings.HasPrefix(e.Error(), "at line 1: Opening and ending tag mismatch: name line 1 and domainsnapshot") {
		t.Errorf("%v (domain %d code %d)", err, e.Domain, e.Code)
	}
}

// A new snapshot is dated now and named after the date; what only a
// redefine reads is ignored.
func TestParseNewSnapshot(t *testing.T) {
	now := time.Unix(1700000000, 0)
	def, _, err := ParseWith("<domainsnapshot><state>running</state><parent><name>p</name></parent>"+
		"<creationTime>5</creationTime><domain type='xen'/><disks><disk name='xvda'><source file='/n.qcow2'/></disk></disks>"+
		"<cookie><x/></cookie></domainsnapshot>", 0, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if def.Name != "1700000000" || def.CreationTime != 1700000000 || def.State != 0 || def.ParentName != "" ||
		def.Dom != nil || def.Memory != LocationDefault {
		t.Errorf("%+v", def)
	}
	if d := def.Disks[0]; d.Snapshot != LocationExternal || d.Type != "file" || d.Path() != "/n.qcow2" {
		t.Errorf("disk %+v", d)
	}
	if def.Cookie != "<x/>" {
		t.Errorf("cookie %q", def.Cookie)
	}
}

// A redefined snapshot's memory defaults by its state; an offline one
// keeps no cookie; an old one without a typed domain keeps none.
func TestParseRedefineDefaults(t *testing.T) {
	for _, c := range []struct {
		state  string
		memory Location
		cookie string
	}{
		{"running", LocationInternal, "<c/>"},
		{"paused", LocationInternal, "<c/>"},
		{"shutoff", LocationNo, ""},
		{"disk-snapshot", LocationNo, ""},
	} {
		def, err := Parse(redefineDoc("<state>"+c.state+"</state><domain><uuid>6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a</uuid></domain><cookie><c/></cookie>"), ParseRedefine)
		if err != nil {
			t.Fatal(err)
		}
		if def.Memory != c.memory || def.Cookie != c.cookie || def.Dom != nil || def.CreationTime != 100 {
			t.Errorf("%s: %+v", c.state, def)
		}
	}
}

// The domains are parsed as inactive, unvalidated definitions with Xen's
// defaults.
func TestParseDomains(t *testing.T) {
	dom := strings.Replace(xenDomain, "<memory>", "<metadata><a:x xmlns:a='urn:a'>1</a:x></metadata><memory>", 1)
	doc := "<domainsnapshot><name>s1</name><state>running</state><creationTime>1</creationTime>" +
		dom + strings.NewReplacer("<domain ", "<inactiveDomain ", "</domain>", "</inactiveDomain>").Replace(xenDomain) +
		"</domainsnapshot>"
	def, err := Parse(doc, ParseRedefine)
	if err != nil {
		t.Fatal(err)
	}
	if def.Dom == nil || def.InactiveDom == nil || def.Dom.Name != "vm1" || def.InactiveDom.Devices.Disks[1].Target.Dev != "xvdb" {
		t.Fatalf("%+v", def)
	}
	if def.Dom.Metadata == nil || !strings.Contains(def.Dom.Metadata.XML, "urn:a") {
		t.Errorf("metadata lost its namespace: %+v", def.Dom.Metadata)
	}
}
