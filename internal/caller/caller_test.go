package caller

import (
	"context"
	"testing"
)

// TestDispatcher: the names libvirt's gendispatch.pl gives the dispatchers.
func TestDispatcher(t *testing.T) {
	for wire, want := range map[string]string{
		"DOMAIN_SAVE":                         "remoteDispatchDomainSave",
		"DOMAIN_GET_XML_DESC":                 "remoteDispatchDomainGetXMLDesc",
		"DOMAIN_LOOKUP_BY_UUID":               "remoteDispatchDomainLookupByUUID",
		"DOMAIN_GET_OS_TYPE":                  "remoteDispatchDomainGetOSType",
		"CONNECT_GET_URI":                     "remoteDispatchConnectGetURI",
		"DOMAIN_PM_SUSPEND_FOR_DURATION":      "remoteDispatchDomainPMSuspendForDuration",
		"NWFILTER_DEFINE_XML":                 "remoteDispatchNWFilterDefineXML",
		"DOMAIN_LOOKUP_BY_ID":                 "remoteDispatchDomainLookupByID",
		"NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN": "remoteDispatchNodeDeviceLookupSCSIHostByWWN",
	} {
		if got := (Call{Procedure: wire}).Dispatcher(); got != want {
			t.Errorf("%s: %s, want %s", wire, got, want)
		}
	}
	if got := (Call{}).Dispatcher(); got != "" {
		t.Errorf("the daemon's own work: %q", got)
	}
}

func TestWithFrom(t *testing.T) {
	ctx := With(context.Background(), Call{Client: 7, Procedure: "DOMAIN_SAVE"})
	if c := From(ctx); c.Client != 7 || c.Procedure != "DOMAIN_SAVE" {
		t.Errorf("%+v", c)
	}
	if c := From(context.Background()); c != (Call{}) {
		t.Errorf("empty context: %+v", c)
	}
}
