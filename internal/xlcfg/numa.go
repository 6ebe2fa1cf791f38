package xlcfg

import (
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virconf"
)

// parseVnuma is xenParseXLVnuma: a list of vnodes, each a list of
// "pnode=N", "size=MiB", "vcpus=BITMAP", "vdistances=D,D,...".
func (c *conf) parseVnuma(d *libvirtxml.Domain) error {
	v, ok := c.lookup("vnuma")
	if !ok || v.Kind != virconf.List {
		return nil
	}
	nodes := 0
	for _, n := range v.List {
		if n.Kind != virconf.List {
			break
		}
		nodes++
	}
	numa := &libvirtxml.DomainNuma{}
	vcpus := 0
	for i, n := range v.List {
		cell, cnt, err := c.parseVnode(n, i, nodes)
		if err != nil {
			return err
		}
		vcpus += cnt
		numa.Cell = append(numa.Cell, cell)
	}
	if d.VCPU.Value == 0 {
		d.VCPU.Value = uint(vcpus)
	}
	if int(d.VCPU.Value) < vcpus {
		return c.errorCode(codeUnsupported, "vnuma",
			"vnuma configuration contains %d vcpus, which is greater than %d maxvcpus", vcpus, d.VCPU.Value)
	}
	d.CPU = &libvirtxml.DomainCPU{Numa: numa}
	// xenParseXL post-parses with VIR_DOMAIN_DEF_PARSE_ABI_UPDATE, so the
	// memory is the sum of the vnodes' (virDomainDefPostParseMemory)
	var sum uint
	for _, cl := range numa.Cell {
		sum += cl.Memory
	}
	if sum > 0 {
		d.Memory = &libvirtxml.DomainMemory{Value: sum, Unit: "KiB"}
	}
	return nil
}

func (c *conf) parseVnode(n virconf.Value, idx, nodes int) (libvirtxml.DomainCell, int, error) {
	id := uint(idx)
	cell := libvirtxml.DomainCell{ID: &id, Unit: "KiB"}
	pnode, kib, ncpus := -1, uint64(0), -1
	var items []virconf.Value
	if n.Kind == virconf.List {
		items = n.List
	}
	for _, it := range items {
		if it.Kind != virconf.String {
			break
		}
		i := strings.LastIndex(it.Str, "=")
		if i < 0 {
			return cell, 0, c.errorf("vnuma", "vnuma vnode invalid format '%s'", it.Str)
		}
		data := it.Str[i+1:]
		if data == "" {
			continue
		}
		var err error
		switch {
		case strings.HasPrefix(it.Str, "pnode"):
			p, perr := strconv.ParseUint(data, 10, 32)
			if perr != nil || int(p) >= nodes {
				return cell, 0, c.errorCode(codeUnsupported, "vnuma",
					"vnuma vnode %d contains invalid pnode value '%s'", idx, data)
			}
			pnode = int(p)
		case strings.HasPrefix(it.Str, "size"):
			kib, err = strconv.ParseUint(data, 10, 64)
			cell.Memory = uint(kib * 1024)
		case strings.HasPrefix(it.Str, "vcpus"):
			var set []int
			set, err = domxml.ParseCPUSet(data, domxml.CPUMaskLen)
			cell.CPUs, ncpus = domxml.FormatCPUSet(set), len(set)
		case strings.HasPrefix(it.Str, "vdistances"):
			err = c.vdistances(&cell, it.Str, data, pnode, nodes)
		default:
			return cell, 0, c.errorCode(codeConfSyntax, "vnuma", "Invalid vnuma configuration for vnode %d", idx)
		}
		if err != nil {
			return cell, 0, withKey(c, "vnuma", asError(err))
		}
	}
	if pnode < 0 || ncpus < 0 || kib == 0 {
		return cell, 0, c.errorCode(codeConfSyntax, "vnuma", "Incomplete vnuma configuration for vnode %d", idx)
	}
	return cell, ncpus, nil
}

func asError(err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	return internalf("%v", err)
}

func (c *conf) vdistances(cell *libvirtxml.DomainCell, str, data string, pnode, nodes int) error {
	ds := strings.Split(data, ",")
	if len(ds) != nodes {
		return unsupportedf("vnuma pnode %d configured '%s' (count %d) doesn't fit the number of specified vnodes %d",
			pnode, str, len(ds), nodes)
	}
	cell.Distances = &libvirtxml.DomainCellDistances{}
	for j, s := range ds {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf("invalid distance '%s'", s)
		}
		cell.Distances.Siblings = append(cell.Distances.Siblings, libvirtxml.DomainCellSibling{ID: uint(j), Value: uint(v)})
	}
	return nil
}

// numaDistance is virDomainNumaGetNodeDistance after libvirt's parse,
// which completes the matrix symmetrically: unset distances are 10 to
// the node itself and 20 to others.
func numaDistances(cells []libvirtxml.DomainCell) [][]uint {
	n := len(cells)
	m := make([][]uint, n)
	for i := range m {
		m[i] = make([]uint, n)
	}
	for i, c := range cells {
		if c.Distances == nil {
			continue
		}
		for _, s := range c.Distances.Siblings {
			if int(s.ID) >= n {
				continue
			}
			m[i][s.ID] = s.Value
			if m[s.ID][i] == 0 {
				m[s.ID][i] = s.Value
			}
		}
	}
	for i := range m {
		for j := range m[i] {
			if m[i][j] == 0 {
				m[i][j] = map[bool]uint{true: 10, false: 20}[i == j]
			}
		}
	}
	return m
}

// formatVnuma is xenFormatXLDomainVnuma.
func formatVnuma(o *out, d *libvirtxml.Domain) error {
	if d.CPU == nil || d.CPU.Numa == nil || len(d.CPU.Numa.Cell) == 0 {
		return nil
	}
	cells := d.CPU.Numa.Cell
	dist := numaDistances(cells)
	var l []value
	for i, cell := range cells {
		set, err := domxml.ParseCPUSet(cell.CPUs, domxml.CPUMaskLen)
		if err != nil {
			return internalf("invalid cpus '%s' in NUMA cell %d", cell.CPUs, i)
		}
		ds := make([]string, len(cells))
		for j := range cells {
			ds[j] = strconv.FormatUint(uint64(dist[i][j]), 10)
		}
		l = append(l, listVal(strVal(fmt.Sprintf("pnode=%d", i)),
			strVal(fmt.Sprintf("size=%d", cellKiB(cell)/1024)),
			strVal("vcpus="+domxml.FormatCPUSet(set)),
			strVal("vdistances="+strings.Join(ds, ","))))
	}
	o.set("vnuma", listVal(l...))
	return nil
}

func cellKiB(c libvirtxml.DomainCell) uint64 {
	scale := map[string]uint64{"": 1, "KiB": 1, "k": 1, "K": 1, "MiB": 1024, "M": 1024,
		"GiB": 1024 * 1024, "G": 1024 * 1024, "b": 0, "bytes": 0}
	s, ok := scale[c.Unit]
	if !ok {
		s = 1
	}
	if s == 0 {
		return uint64(c.Memory) / 1024
	}
	return uint64(c.Memory) * s
}
