package driver

import (
	"virtxend/internal/hostdev"
	"virtxend/internal/pci"
)

// newPCIHost is the host's PCI devices as the hostdev manager asks for
// them: package pci's rules over the backend's bus.
func newPCIHost(bus pci.Bus) hostdev.Host {
	return nil // TODO: pci's rules, once package pci has them
}
