package pci

// The stub drivers libvirt knows (virPCIStubDriver), by their sysfs names.
const (
	StubXen  = "pciback"
	StubVFIO = "vfio-pci"
)

// IsStubDriver says whether a driver is one of libvirt's stubs: a device
// bound to one is detached from the host.
func IsStubDriver(name string) bool { return name == StubXen || name == StubVFIO }
