package drivertests

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/backend"
	"virtxend/test/daemontest"
)

// TestTakeOverFromLibvirt: an admin stops libvirt's own Xen daemon, whose
// guests keep running, and starts this one on the same files. What
// libvirt's leaves (a guest marked by its "libvirt-xml" libxl userdata, the
// guest's status file in libvirt's layout, its empty autostart marker) is
// taken over: the guest is listed running with its id and the same live
// XML, the port libvirt's daemon had the network driver make for its NIC is
// found there (libvirt's status file keeps it as the interface's <actual>)
// and goes with the guest's destroy, the guest starts again, and an
// autostart guest shut off meanwhile stays off (libvirt's daemon autostarted
// this boot's guests). Handed back, the status file this daemon leaves is in
// libvirt's layout, its definition valid by libvirt's schema. (On real Xen, test/xen's oracle-swap makes the same
// swap with libvirt's daemon both ways.)
func TestTakeOverFromLibvirt(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.StartLibvirtd(t, root)
	d1 := daemontest.Start(t, root)
	d1.MustVirsh("net-define", daemontest.WriteFile(t, t.TempDir(), "net.xml", isolatedNet))
	d1.MustVirsh("net-start", "default")
	id := defineStart(t, d1, "lv", guestXML("lv", "<devices><interface type='network'><source network='default'/></interface><console type='pty'/></devices>"))
	define(t, d1, "auto", guestXML("auto", ""))
	d1.MustVirsh("autostart", "auto")
	ttyconsole(t, d1, "lv")
	live := d1.MustVirsh("dumpxml", "lv")
	port := strings.TrimSpace(d1.MustVirsh("net-port-list", "default", "--uuid"))
	if !strings.Contains(live, "portid='"+port+"'") {
		t.Fatalf("port %q is not in the live XML:\n%s", port, live)
	}
	d1.Stop()

	// What libvirt's daemon leaves, as its virDomainObjFormat writes it.
	status := filepath.Join(d1.Paths.StateDir(), "lv.xml")
	libvirts := "<domstatus state='running' reason='booted' pid='0'>\n  <taint flag='high-privileges'/>\n" +
		"  " + strings.ReplaceAll(strings.TrimSpace(live), "\n", "\n  ") + "\n</domstatus>\n"
	if err := os.WriteFile(status, []byte(libvirts), 0o600); err != nil {
		t.Fatal(err)
	}
	markAsLibvirts(t, d1.Paths.SimHostDir(), "lv")
	if err := os.WriteFile(d1.Paths.AutostartMarker(), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	d2 := daemontest.Start(t, root)
	if got := domid(t, d2, "lv"); got != id {
		t.Fatalf("libvirt's guest: id %d, was %d\n%s", got, id, d2.Output())
	}
	if got := d2.DomState("lv"); got != "running (booted)" {
		t.Errorf("libvirt's guest: %q", got)
	}
	if got := d2.MustVirsh("dumpxml", "lv"); got != live {
		t.Errorf("libvirt's guest's live XML:\n%s\nlibvirt's daemon had:\n%s", got, live)
	}
	if got := d2.DomState("auto"); got != "shut off (unknown)" {
		t.Errorf("autostart guest after libvirt's daemon had autostarted this boot: %q", got)
	}
	w := watchEvents(t, d2)
	d2.MustVirsh("destroy", "lv")
	w.exactly(d2, "lv", "STOPPED/DESTROYED")
	if got := strings.TrimSpace(d2.MustVirsh("net-port-list", "default", "--uuid")); got != "" {
		t.Errorf("the port of libvirt's guest is left after its destroy: %q", got)
	}
	id2 := defineStartAgain(t, d2, "lv", id)
	d2.Stop()

	// Handed back: libvirt's layout, with the domid in the definition.
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		XMLName xml.Name   `xml:"domstatus"`
		Attrs   []xml.Attr `xml:",any,attr"`
		Domain  struct {
			ID    int    `xml:"id,attr"`
			Inner []byte `xml:",innerxml"`
		} `xml:"domain"`
	}
	if err := xml.Unmarshal(b, &st); err != nil {
		t.Fatalf("status file left: %v\n%s", err, b)
	}
	attrs := map[string]string{}
	for _, a := range st.Attrs {
		attrs[a.Name.Local] = a.Value
	}
	if want := map[string]string{"state": "running", "reason": "booted", "pid": "0"}; !maps.Equal(attrs, want) {
		t.Errorf("status file's attributes %v, want libvirt's %v", attrs, want)
	}
	if st.Domain.ID != id2 {
		t.Errorf("status file's definition has id %d, want %d", st.Domain.ID, id2)
	}
	if _, err := exec.LookPath("virt-xml-validate"); err == nil {
		start := bytes.Index(b, []byte("<domain "))
		end := bytes.LastIndex(b, []byte("</domain>")) + len("</domain>")
		path := daemontest.WriteFile(t, t.TempDir(), "live.xml", string(b[start:end]))
		if out, err := exec.Command("virt-xml-validate", path, "domain").CombinedOutput(); err != nil {
			t.Errorf("the status file's definition is not valid by libvirt's schema: %v\n%s", err, out)
		}
	}
}

// markAsLibvirts makes the simulated host's guest name one that libvirt's
// own Xen driver started: its marker is libvirt's userdata, not ours.
func markAsLibvirts(t *testing.T, hostDir, name string) {
	t.Helper()
	path := filepath.Join(hostDir, "host.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var st map[string]any
	if err := dec.Decode(&st); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range st["guests"].([]any) {
		if g := g.(map[string]any); g["name"] == name {
			g["marker"] = backend.LibvirtMarker
			found = true
		}
	}
	if !found {
		t.Fatalf("no guest %s in %s", name, path)
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
