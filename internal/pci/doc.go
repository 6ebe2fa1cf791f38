// Package pci is the host's PCI bus as libvirt's virpci.c sees it through
// sysfs: a device's config space, the driver it is bound to, binding it to
// a stub driver (Xen's pciback) and back, and resetting it with libvirt's
// rules (FLR, power-management reset, secondary bus reset).
//
// The bus itself is an interface, Bus: Sysfs is the real one under
// /sys/bus/pci; the simulated Xen host has its own, which never touches a
// real device. Everything above the bus (these functions, and the
// bookkeeping of who uses which device in internal/hostdev) is the same
// code for both.
package pci
