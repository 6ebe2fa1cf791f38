// Package remote is libvirt's remote program (0x20008086): the table of
// its procedures and their handlers, which call the Xen driver.
package remote

//go:generate go run ../../tools/genprocs -o procnames.gen.go

// procName names one procedure of the remote protocol.
type procName struct {
	Num  uint32
	Wire string // e.g. DOMAIN_SNAPSHOT_NUM
	API  string // e.g. virDomainSnapshotNum
}

// lookupProcName finds a procedure of the remote protocol by number.
func lookupProcName(num uint32) (procName, bool) {
	lo, hi := 0, len(procNames)
	for lo < hi {
		mid := (lo + hi) / 2
		switch {
		case procNames[mid].Num == num:
			return procNames[mid], true
		case procNames[mid].Num < num:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return procName{}, false
}
