package remote

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// pythonLifecycle runs a guest's lifecycle with an event loop, printing
// each event and each error's code and domain, one per line.
const pythonLifecycle = `
import sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(sys.argv[1])
seen = []
def on_event(conn, dom, event, detail, opaque):
    seen.append("event %s %d %d" % (dom.name(), event, detail))
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event, None)
xml = sys.argv[2]
dom = conn.defineXML(xml)
dom.create()
dom.suspend()
dom.resume()
dom.shutdown()
for _ in range(600):
    if dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF:
        break
    time.sleep(0.05)
def error_of(f):
    try:
        f()
    except libvirt.libvirtError as e:
        print("error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))
dom.create()
error_of(lambda: dom.create())
error_of(lambda: conn.defineXML(xml.replace("<name>", "<uuid>00000000-1111-2222-3333-444444444444</uuid><name>")))
dom.destroy()
error_of(lambda: dom.destroy())
dom.undefine()
error_of(lambda: dom.undefine())
error_of(lambda: conn.lookupByName("nosuch"))
error_of(lambda: conn.defineXML("<domain"))
error_of(lambda: conn.lookupByName("Domain-0").suspend())
print("secure", conn.isSecure(), "secmodel", conn.getSecurityModel(), "uri", conn.getURI() == sys.argv[1])
try:
    print("sysinfo", conn.getSysinfo(0).startswith("<sysinfo type='smbios'>"))
except libvirt.libvirtError as e:
    print("sysinfo error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))
conn.registerCloseCallback(lambda *a: None, None)
conn.unregisterCloseCallback()
print("type", conn.getType(), "version", conn.getVersion(), "lib", conn.getLibVersion())
ro = libvirt.openReadOnly(sys.argv[1])
print("ro domains", len(ro.listAllDomains()))
for _ in range(600):
    if len(seen) >= 7:
        break
    time.sleep(0.05)
print("\n".join(seen))
`

func TestPythonLifecycleWithEvents(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	r := d.Python(pythonLifecycle, pvXML("py1"))
	if r.Code != 0 {
		t.Fatalf("python: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// SMBIOS strings come from the host: present, or libxl's error.
	if !strings.Contains(r.Stdout, "sysinfo True") &&
		!strings.Contains(r.Stdout, "sysinfo error 67 41 unsupported configuration: Host SMBIOS information is not available") {
		t.Errorf("python sysinfo:\n%s", r.Stdout)
	}
	for _, want := range []string{
		"event py1 0 0", // defined, added
		"event py1 2 0", // started, booted
		"event py1 3 0", // suspended, paused
		"event py1 4 0", // resumed, unpaused
		"event py1 5 0", // stopped, shutdown
		"event py1 5 1", // stopped, destroyed
		"event py1 1 0", // undefined, removed
		"error 42 41 Domain not found",
		"error 55 41 Requested operation is not valid: Domain is already running",
		"error 9 20 operation failed: domain 'py1' already exists with uuid ",
		"error 55 20 Requested operation is not valid: domain is not running",
		"error 42 41 Domain not found: no domain with matching uuid '", // the name is the client's:
		"' (py1)",
		"error 35 20 at line 1: Premature end of data", // VIR_ERR_XML_DETAIL, VIR_FROM_DOMAIN
		"error 55 41 Requested operation is not valid: Domain-0 does not support requested operation",
		"type Xen version 4017000 lib 11003000",
		"secure 1 secmodel ['', ''] uri True",
		"ro domains 1",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("python output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// pythonErrorDomains calls the storage and nwfilter drivers on the
// read-write URI (argv[1]) and on the read-only socket's URI (argv[2])
// opened without the read-only flag, so that a daemon, not the client,
// refuses.
const pythonErrorDomains = `
import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
for name, uri in (("rw", sys.argv[1]), ("ro", sys.argv[2])):
    conn = libvirt.open(uri)
    for what, f in (("pool", lambda: conn.storagePoolDefineXML("<pool/>")),
                    ("nwfilter", lambda: conn.nwfilterDefineXML("<filter name='x'/>"))):
        try:
            f()
        except libvirt.libvirtError as e:
            print("%s %s %d %d %s" % (name, what, e.get_error_code(), e.get_error_domain(), e.get_error_message()))
`

// The errors of the storage and nwfilter drivers, which libvirtd serves
// through virtxend, reach libvirt-python in their own error domains: a
// read-only client's write is refused by libvirtd, bad XML is libvirtd's
// XML error.
func TestPythonErrorDomainsOfOtherDrivers(t *testing.T) {
	d, _ := beside(t)
	r := d.Python(pythonErrorDomains, d.ROURI())
	if r.Code != 0 {
		t.Fatalf("python: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"rw pool 27 5 XML error: Missing required attribute 'type' in element 'pool'",
		"ro pool 29 18 operation forbidden: read only access prevents virStoragePoolDefineXML",
		"ro nwfilter 29 33 operation forbidden: read only access prevents virNWFilterDefineXML",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("python output lacks %q:\n%s", want, r.Stdout)
		}
	}
}
