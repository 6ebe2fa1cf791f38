// Package pci is the host's PCI bus as libvirt's virpci.c sees it through
// sysfs: a device's config space, the driver it is bound to, binding it to
// a stub driver (Xen's pciback) and back, and resetting it with libvirt's
// rules (FLR, power-management reset, secondary bus reset).
//
// The bus itself is an interface, Bus: Sysfs is the real one under
// /sys/bus/pci; the simulated Xen host uses simbus's, which never touches
// a real device. Config reads capabilities out of config space bytes and
// knows no bus. Host holds the rules, over any Bus: Reset, BindToStub,
// UnbindFromStub, ProbeStub, Assignable, Parent, Lookup.
//
// Which devices a guest uses, and whether we bound a device to the stub
// (libvirt's active and inactive lists, unbind_from_stub), is bookkeeping
// above this package, in internal/hostdev; Host keeps no state.
package pci
