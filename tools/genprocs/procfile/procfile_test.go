package procfile

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const sample = `# a comment
libvirt 11.3.0
1 CONNECT_OPEN args high preopen driver=hypervisor
14 DOMAIN_GET_XML_DESC args ret driver=hypervisor api=virDomainGetXMLDesc errors=DOMAIN:20 ro=flags&0x9 ro-msg="virDomainGetXMLDesc with secure flag"
55 DOMAIN_SAVE args driver=hypervisor api=virDomainSave errors=DOMAIN:20 ro=deny
66 AUTH_LIST ret high noauth preopen driver=hypervisor
107 DOMAIN_EVENT_LIFECYCLE message driver=hypervisor
201 DOMAIN_OPEN_CONSOLE args stream=read driver=hypervisor api=virDomainOpenConsole errors=DOMAIN:20 ro=deny
353 DOMAIN_INTERFACE_ADDRESSES args ret driver=hypervisor api=virDomainInterfaceAddresses errors=DOMAIN:20 ro=source==1
`

func TestParseWriteRoundTrip(t *testing.T) {
	f, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "11.3.0" || len(f.Procs) != 7 {
		t.Fatalf("version %q, %d procedures", f.Version, len(f.Procs))
	}
	want := Proc{Number: 14, Name: "DOMAIN_GET_XML_DESC", Args: true, Ret: true, Driver: "hypervisor",
		API: "virDomainGetXMLDesc", Errors: ErrorDomain{"DOMAIN", 20},
		RO: ReadOnly{Deny: true, When: &Cond{Param: "flags", Op: "&", Value: 9}, Message: "virDomainGetXMLDesc with secure flag"}}
	if !reflect.DeepEqual(f.Procs[1], want) {
		t.Errorf("got %+v\nwant %+v", f.Procs[1], want)
	}
	if c := f.Procs[6].RO.When; c == nil || c.Op != "==" || c.Param != "source" || c.Value != 1 {
		t.Errorf("equality condition: %+v", c)
	}
	var b bytes.Buffer
	if err := Write(&b, f, "a comment"); err != nil {
		t.Fatal(err)
	}
	if b.String() != sample {
		t.Errorf("written:\n%s\nwant:\n%s", b.String(), sample)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{
		"",                            // no version
		"1 CONNECT_OPEN\n",            // no version line first
		"libvirt 1\n2 B\n1 A\n",       // out of order
		"libvirt 1\n1 A frobnicate\n", // unknown fact
		"libvirt 1\n1 A stream=both\n",
		"libvirt 1\n1 A ro=flags~3\n",
		"libvirt 1\n1 A errors=DOMAIN\n",
		"libvirt 1\n1 A ro-msg=\"unterminated\n",
		"libvirt 1\nx A\n",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestProcName(t *testing.T) {
	for name, want := range map[string]string{
		"DOMAIN_GET_OS_TYPE":                  "DomainGetOSType",
		"CONNECT_GET_URI":                     "ConnectGetURI",
		"DOMAIN_GET_XML_DESC":                 "DomainGetXMLDesc",
		"NWFILTER_DEFINE_XML":                 "NWFilterDefineXML",
		"DOMAIN_PM_WAKEUP":                    "DomainPMWakeup",
		"DOMAIN_EVENT_PMSUSPEND":              "DomainEventPMsuspend",
		"NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN": "NodeDeviceLookupSCSIHostByWWN",
		"DOMAIN_LOOKUP_BY_ID":                 "DomainLookupByID",
		"DOMAIN_GET_IOTHREAD_INFO":            "DomainGetIOThreadInfo",
	} {
		if got := ProcName(name); got != want {
			t.Errorf("ProcName(%s) = %s, want %s", name, got, want)
		}
	}
}

// FuzzParse checks that whatever parses writes back to the same facts.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("libvirt 1\n1 A ro-msg=\"a \\\"b\\\" c\" ro=x==3\n")
	f.Fuzz(func(t *testing.T, text string) {
		first, err := Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Write(&b, first, "x"); err != nil {
			t.Fatal(err)
		}
		second, err := Parse(&b)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("round trip changed the facts:\n%+v\n%+v", first, second)
		}
	})
}
