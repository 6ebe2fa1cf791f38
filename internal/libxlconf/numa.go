package libxlconf

import (
	"strings"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// Distances libvirt assumes when a cell does not give one.
const (
	localDistance  = 10
	remoteDistance = 20
)

// vnuma is libxlMakeVnumaList: one virtual NUMA node per <cell>, placed
// on the host node of the same number when the host has enough nodes.
func (t *translation) vnuma(c *libxltypes.DomainConfig) error {
	cpu := t.d.CPU
	if cpu == nil || cpu.Numa == nil || len(cpu.Numa.Cell) == 0 {
		return nil
	}
	cells := cpu.Numa.Cell
	spread := len(cells) <= t.host.numaNodes()
	seen := map[int]bool{}
	for i, cell := range cells {
		vcpus, err := domxml.ParseCPUSet(cell.CPUs, domxml.CPUMaskLen)
		if err != nil {
			return unsupported("invalid cpus '%s' in NUMA cell %d", cell.CPUs, i)
		}
		for _, v := range vcpus {
			if v >= c.BInfo.MaxVCPUs || seen[v] {
				return unsupported("vnuma vcpu %d is out of range or in two cells", v)
			}
			seen[v] = true
		}
		node := libxltypes.VNUMANode{MemKiB: cellKiB(cell.Memory, cell.Unit), VCPUs: vcpus}
		for j := range cells {
			node.Distances = append(node.Distances, cellDistance(t, i, j))
		}
		if spread {
			node.PNode = uint(i)
		}
		c.BInfo.VNUMANodes = append(c.BInfo.VNUMANodes, node)
	}
	return nil
}

func cellDistance(t *translation, from, to int) uint {
	cell := t.d.CPU.Numa.Cell[from]
	if cell.Distances != nil {
		for _, s := range cell.Distances.Siblings {
			if int(s.ID) == to && s.Value != 0 {
				return s.Value
			}
		}
	}
	if from == to {
		return localDistance
	}
	return remoteDistance
}

// cellKiB converts a cell's memory to KiB.
func cellKiB(v uint, unit string) uint64 {
	n := uint64(v)
	switch strings.ToLower(unit) {
	case "", "k", "kib":
		return n
	case "b", "bytes":
		return n / 1024
	case "kb":
		return n * 1000 / 1024
	case "m", "mib":
		return n << 10
	case "mb":
		return n * 1000 * 1000 / 1024
	case "g", "gib":
		return n << 20
	case "gb":
		return n * 1000 * 1000 * 1000 / 1024
	case "t", "tib":
		return n << 30
	}
	return n
}
