//go:build libxl

package libxl

import (
	"virtxend/internal/backend"
	"virtxend/internal/pci"
)

var _ backend.PCIHost = (*Backend)(nil)

// PCIBus is dom0's PCI bus in sysfs. The driver binds a guest's devices to
// pciback through it, as libvirt's libxl driver does with virpci.c, rather
// than with libxl_device_pci_assignable_add: so a device's original driver
// and libvirt's reset rules are the driver's to keep.
func (b *Backend) PCIBus() pci.Bus { return pci.Sysfs{} }
