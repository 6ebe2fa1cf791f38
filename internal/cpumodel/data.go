package cpumodel

import (
	"cmp"
	"slices"
)

// itemKind orders items as virCPUx86DataSorter does: CPUID leaves before
// MSRs.
type itemKind uint8

const (
	kindCPUID itemKind = 1
	kindMSR   itemKind = 2
)

// item is one CPUID leaf (EAX in, ECX in; EAX..EDX out) or one MSR (its
// index in in, its value in a (EAX) and d (EDX)): virCPUx86DataItem.
type item struct {
	kind       itemKind
	in, subin  uint32
	a, b, c, d uint32
}

func (it item) zero() bool { return it.a == 0 && it.b == 0 && it.c == 0 && it.d == 0 }

func (it item) key(o item) int {
	if c := cmp.Compare(it.kind, o.kind); c != 0 {
		return c
	}
	if c := cmp.Compare(it.in, o.in); c != 0 {
		return c
	}
	if it.kind == kindMSR {
		return 0
	}
	return cmp.Compare(it.subin, o.subin)
}

// matchMasked: every bit of mask is set in it (virCPUx86DataItemMatchMasked).
func (it item) matchMasked(mask item) bool {
	return it.a&mask.a == mask.a && it.b&mask.b == mask.b && it.c&mask.c == mask.c && it.d&mask.d == mask.d
}

func (it item) equalBits(o item) bool {
	return it.a == o.a && it.b == o.b && it.c == o.c && it.d == o.d
}

// data is a set of CPUID leaves and MSRs, sorted by key (virCPUx86Data).
// Items whose bits are all clear count as absent.
type data []item

func (d data) clone() data { return slices.Clone(d) }

// get is virCPUx86DataGet: the item with o's key, or nil.
func (d data) get(o item) *item {
	for i := range d {
		if d[i].key(o) == 0 {
			return &d[i]
		}
	}
	return nil
}

// addItem is virCPUx86DataAddItem: or the bits into an existing item, or
// insert it in order.
func (d *data) addItem(it item) {
	if e := d.get(it); e != nil {
		e.a, e.b, e.c, e.d = e.a|it.a, e.b|it.b, e.c|it.c, e.d|it.d
		return
	}
	i, _ := slices.BinarySearchFunc(*d, it, func(x, y item) int { return x.key(y) })
	*d = slices.Insert(*d, i, it)
}

// add is x86DataAdd.
func (d *data) add(o data) {
	for _, it := range o {
		if !it.zero() {
			d.addItem(it)
		}
	}
}

// subtract is x86DataSubtract: clear o's bits.
func (d data) subtract(o data) {
	for i := range d {
		if m := o.get(d[i]); m != nil {
			d[i].a &^= m.a
			d[i].b &^= m.b
			d[i].c &^= m.c
			d[i].d &^= m.d
		}
	}
}

// intersect is x86DataIntersect: keep only the bits o has too.
func (d data) intersect(o data) {
	for i := range d {
		if m := o.get(d[i]); m != nil {
			d[i].a &= m.a
			d[i].b &= m.b
			d[i].c &= m.c
			d[i].d &= m.d
		} else {
			d[i].a, d[i].b, d[i].c, d[i].d = 0, 0, 0, 0
		}
	}
}

// empty is x86DataIsEmpty.
func (d data) empty() bool {
	for _, it := range d {
		if !it.zero() {
			return false
		}
	}
	return true
}

// hasAll is x86DataIsSubset(d, sub): every bit of sub is in d.
func (d data) hasAll(sub data) bool {
	for _, s := range sub {
		if s.zero() {
			continue
		}
		it := d.get(s)
		if it == nil || !it.matchMasked(s) {
			return false
		}
	}
	return true
}

// leaf1 is the signature leaf's key.
var leaf1 = item{kind: kindCPUID, in: 1}

// signatureMask masks out the reserved bits of the processor signature.
const signatureMask = 0x0fff3fff

// signature is x86DataToSignature: CPUID.1:EAX, masked.
func (d data) signature() uint32 {
	if it := d.get(leaf1); it != nil {
		return it.a & signatureMask
	}
	return 0
}

// splitSignature is virCPUx86SignatureFromCPUID.
func splitSignature(sig uint32) (family, model, stepping uint) {
	family = uint((sig>>20)&0xff) + uint((sig>>8)&0xf)
	model = uint((sig>>12)&0xf0) + uint((sig>>4)&0xf)
	stepping = uint(sig & 0xf)
	return
}
