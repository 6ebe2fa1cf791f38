// Package hostdev keeps the books of the host's PCI devices that guests
// use, as libvirt's virhostdev.c does for its drivers: which device is
// assigned to which domain (the active list), which ones the daemon has
// taken from their host driver and holds on the stub driver without a
// guest (the inactive list), and the steps that move a device between the
// host, the stub and a guest — detach, reset, reattach — in libvirt's
// order and with its errors.
//
// Unlike libvirt, which keeps both lists in memory and rebuilds the active
// one from the running domains after a restart, the manager writes them to
// one state file after every change. A domain that stopped while the daemon
// was down then still owns its devices when the daemon starts again, so
// they are returned to the host instead of staying "in use by driver
// xenlight" (the leak Qubes OS carries patches for).
package hostdev
