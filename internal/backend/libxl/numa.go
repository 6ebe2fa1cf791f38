package libxl

import (
	"strconv"
	"strings"
)

// Distances libvirt assumes when a cell does not give one.
const (
	localDistance  = 10
	remoteDistance = 20
)

// vnuma is libxlMakeVnumaList: one virtual NUMA node per <cell>, placed
// on the host node of the same number when the host has enough nodes.
func (t *translation) vnuma(c *DomainConfig) error {
	cpu := t.d.CPU
	if cpu == nil || cpu.Numa == nil || len(cpu.Numa.Cell) == 0 {
		return nil
	}
	cells := cpu.Numa.Cell
	spread := len(cells) <= t.host.numaNodes()
	seen := map[int]bool{}
	for i, cell := range cells {
		vcpus, err := parseCPUSet(cell.CPUs)
		if err != nil {
			return unsupported("invalid cpus '%s' in NUMA cell %d", cell.CPUs, i)
		}
		for _, v := range vcpus {
			if v >= c.BInfo.MaxVCPUs || seen[v] {
				return unsupported("vnuma vcpu %d is out of range or in two cells", v)
			}
			seen[v] = true
		}
		node := VNUMANode{MemKiB: cellKiB(cell.Memory, cell.Unit), VCPUs: vcpus}
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

// parseCPUSet reads libvirt's cpuset syntax: "0-3,5,^2".
func parseCPUSet(s string) ([]int, error) {
	in := map[int]bool{}
	var excl []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, strconv.ErrSyntax
		}
		neg := strings.HasPrefix(part, "^")
		part = strings.TrimPrefix(part, "^")
		lo, hi, err := cpuRange(part)
		if err != nil {
			return nil, err
		}
		for v := lo; v <= hi; v++ {
			if neg {
				excl = append(excl, v)
			} else {
				in[v] = true
			}
		}
	}
	for _, v := range excl {
		delete(in, v)
	}
	var out []int
	for v := 0; len(out) < len(in); v++ {
		if in[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

func cpuRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 0 || lo > 4095 {
		return 0, 0, strconv.ErrSyntax
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err := strconv.Atoi(b)
	if err != nil || hi < lo || hi > 4095 {
		return 0, 0, strconv.ErrSyntax
	}
	return lo, hi, nil
}
