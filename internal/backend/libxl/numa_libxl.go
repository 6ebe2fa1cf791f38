//go:build libxl

package libxl

/*
#include <libxl.h>
*/
import "C"

import (
	"unsafe"

	"virtxend/internal/backend"
)

// invalidEntry is LIBXL_NUMAINFO_INVALID_ENTRY and
// LIBXL_CPUTOPOLOGY_INVALID_ENTRY: a node or CPU libxl knows nothing of.
const invalidEntry = ^uint32(0)

// NUMA reads the host's NUMA nodes and which CPUs each has
// (libxl_get_numainfo, libxl_get_cpu_topology), as libxlCapsInitNuma
// does; nil when libxl reports none.
func (c *Context) NUMA() []backend.NUMANode {
	defer c.hold()()
	var nr C.int
	info := C.libxl_get_numainfo(c.ctx, &nr)
	if info == nil {
		return nil
	}
	defer C.libxl_numainfo_list_free(info, nr)
	var ncpu C.int
	topo := C.libxl_get_cpu_topology(c.ctx, &ncpu)
	if topo == nil {
		return nil
	}
	defer C.libxl_cputopology_list_free(topo, ncpu)
	byID := map[int]*backend.NUMANode{}
	nodes := make([]backend.NUMANode, 0, int(nr))
	for i, n := range unsafe.Slice(info, int(nr)) {
		if uint64(n.size) == uint64(invalidEntry) {
			continue // libvirt leaves out a node libxl knows nothing of, and its CPUs
		}
		node := backend.NUMANode{ID: i, MemKiB: uint64(n.size) / 1024}
		for _, d := range unsafe.Slice(n.dists, int(n.num_dists)) {
			node.Distances = append(node.Distances, int(d))
		}
		nodes = append(nodes, node)
	}
	for i := range nodes {
		byID[nodes[i].ID] = &nodes[i]
	}
	for id, t := range unsafe.Slice(topo, int(ncpu)) {
		if n := byID[int(t.node)]; n != nil && uint32(t.core) != invalidEntry {
			n.CPUs = append(n.CPUs, backend.HostCPU{ID: id, Socket: int(t.socket), Core: int(t.core)})
		}
	}
	return nodes
}
