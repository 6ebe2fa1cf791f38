package libxl

// maxMemSlackKiB is what libxl adds to every guest maximum it gives Xen
// (LIBXL_MAXMEM_CONSTANT, in libxl_internal.h): a 128 MiB guest has a
// Xen maximum of 129 MiB, and libxl_domain_setmaxmem(192 MiB) makes it
// 193 MiB.
const maxMemSlackKiB = 1024

// guestMaxKiB is the maximum a guest was given, from the one Xen reports
// for it (libxl_dominfo.max_memkb). Domain-0's maximum is Xen's own.
func guestMaxKiB(domid uint32, xenMaxKiB uint64) uint64 {
	if domid == 0 || xenMaxKiB < maxMemSlackKiB {
		return xenMaxKiB
	}
	return xenMaxKiB - maxMemSlackKiB
}
