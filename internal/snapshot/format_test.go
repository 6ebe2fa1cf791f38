package snapshot

import (
	"os"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The metadata file of a Xen snapshot reads back to the same bytes, as
// current or not; and a parse of what was written is the same definition.
func TestMetadataRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("testdata/xen-metadata.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, current := range []bool{true, false} {
		doc := string(raw)
		if !current {
			doc = strings.Replace(doc, "<active>1</active>", "<active>0</active>", 1)
		}
		def, cur, err := ParseMetadata(doc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if cur != current {
			t.Errorf("current %v, want %v", cur, current)
		}
		out, err := FormatMetadata(def, "6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a", cur)
		if err != nil {
			t.Fatal(err)
		}
		if out != doc {
			t.Errorf("round trip (current %v):\n%s", current, lineDiff(out, doc))
		}
	}
}

// The public XML leaves <active> out; only SECURE shows the domain's
// secrets; a snapshot without its domain names the domain by UUID.
func TestFormatFlags(t *testing.T) {
	dom := strings.Replace(xenDomain, "</devices>", "<graphics type='vnc' passwd='sesame'/></devices>", 1)
	def, err := Parse("<domainsnapshot><name>s</name><state>shutoff</state><creationTime>1</creationTime>"+dom+"</domainsnapshot>", ParseRedefine)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Format(def, "", XMLFlags(0))
	if err != nil {
		t.Fatal(err)
	}
	secure, err := Format(def, "", XMLFlags(uint32(libvirt.DomainSnapshotXMLSecure)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "sesame") || !strings.Contains(secure, "passwd='sesame'") || strings.Contains(plain, "<active>") {
		t.Errorf("plain:\n%s\nsecure:\n%s", plain, secure)
	}
	def.Dom = nil
	old, _ := Format(def, "6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a", 0)
	if !strings.Contains(old, "  <domain>\n    <uuid>6f7e4c1a-3b39-4c55-9bf0-1f1e2d3c4b5a</uuid>\n  </domain>\n") {
		t.Errorf("%s", old)
	}
	if _, err := Format(def, "", 8); !virerr.Is(err, libvirt.ErrInvalidArg) {
		t.Errorf("unknown flag accepted: %v", err)
	}
}

// A network source is written in libvirt's order, hosts with their
// protocol's default port, and without what the protocol does not use.
func TestFormatNetworkSource(t *testing.T) {
	def, err := Parse("<domainsnapshot><name>s</name><disks><disk name='xvdc' type='network'>"+
		"<source protocol='gluster' name='vol/img' query='q' startupPolicy='optional'>"+
		"<host transport='tcp' name='h1'/><host port='24008' name='h2' transport='rdma'/>"+
		"<host socket='/run/g.sock' transport='unix'/><readahead size='1'/></source></disk></disks></domainsnapshot>", 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format(def, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"    <disk name='xvdc' snapshot='external' type='network'>\n" +
		"      <source protocol='gluster' name='vol/img'>\n" +
		"        <host name='h1' port='24007'/>\n" +
		"        <host name='h2' port='24008' transport='rdma'/>\n" +
		"        <host transport='unix' socket='/run/g.sock'/>\n" +
		"      </source>\n" +
		"    </disk>\n"
	if !strings.Contains(out, want) {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// An ssh source's known hosts file and identity come after its host, as
// virDomainDiskSourceFormatNetwork writes them; an nfs identity keeps
// only its user and group, before anything else but the hosts.
func TestFormatSSHAndNFSSources(t *testing.T) {
	def, err := Parse("<domainsnapshot><name>s</name><disks>"+
		"<disk name='xvdc' type='network'><source protocol='ssh' name='/img'>"+
		"<identity username='u' keyfile='/k' user='ignored'/><knownHosts path='/kh'/><host name='h'/></source></disk>"+
		"<disk name='xvdd' type='network'><source protocol='nfs' name='/export/img'>"+
		"<snapshot name='sn'/><identity user='u' group='g' username='ignored'/><host name='n'/></source></disk>"+
		"</disks></domainsnapshot>", 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format(def, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"      <source protocol='ssh' name='/img'>\n" +
			"        <host name='h' port='22'/>\n" +
			"        <knownHosts path='/kh'/>\n" +
			"        <identity username='u' keyfile='/k'/>\n" +
			"      </source>\n",
		"      <source protocol='nfs' name='/export/img'>\n" +
			"        <host name='n'/>\n" +
			"        <identity user='u' group='g'/>\n" +
			"        <snapshot name='sn'/>\n" +
			"      </source>\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant\n%s", out, want)
		}
	}
	for doc, msg := range map[string]string{
		"<knownHosts/>":                           "XML error: Missing required attribute 'path' in element 'knownHosts'",
		"<identity keyfile='/k'/>":                "XML error: Missing required attribute 'username' in element 'identity'",
		"<identity username='u'/>":                "XML error: element 'identity' requires either 'keyfile' or 'agentsock' attribute",
		"<identity username='u' agentsock='/a'/>": "",
	} {
		_, err := Parse("<domainsnapshot><disks><disk name='a' type='network'><source protocol='ssh' name='/i'>"+
			doc+"</source></disk></disks></domainsnapshot>", 0)
		if (err == nil) != (msg == "") || (err != nil && err.Error() != msg) {
			t.Errorf("%s: %v, want %q", doc, err, msg)
		}
	}
}
