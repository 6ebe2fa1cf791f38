// Package xlcfg converts between Xen's native guest configurations — xl.cfg(5)
// ("xen-xl") and the legacy xm format ("xen-xm") — and libvirt domain XML,
// as libvirt's libxl driver does (src/libxl/xen_common.c, xen_xl.c,
// xen_xm.c), so that virsh domxml-from-native / domxml-to-native give the
// same results against this daemon.
//
// Reading goes cfg → libvirtxml.Domain → domxml (libvirt's Xen post-parse
// defaults) → libvirt-formatted XML. Writing goes XML → domxml.Parse →
// cfg entries in libvirt's order, written as virConfWriteMem writes them.
//
// Unlike libvirt, which ignores keys it does not know, ToXML returns the
// settings it did not use (key and line) so a caller can report them.
package xlcfg
