// Package cpumodel is libvirt's x86 CPU driver (src/cpu/cpu_x86.c) and its
// CPU definitions (src/conf/cpu_conf.c), as far as libvirt's libxl driver
// uses them: the host CPU of the capabilities decoded from the CPUID words
// libxl reports (libxlCapsInitCPU, cpuDecode), virConnectCompareCPU
// (virCPUCompareXML) and virConnectBaselineCPU (virCPUBaseline,
// virCPUExpandFeatures), with libvirt's CPU XML, its errors, and libvirt
// 11.3's CPU map embedded (cpu_map/).
//
// The tests run libvirt's own fixtures (tests/cputestdata): the host CPU
// decoded from real machines' CPUID dumps, comparisons and baselines.
package cpumodel
