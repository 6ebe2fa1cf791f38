package libxl

import (
	"bufio"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"virtxend/internal/backend"
)

// Where dom0's kernel shows the guests' PV device backends and the
// network interfaces' counters.
const (
	xenBackendDevices = "/sys/bus/xen-backend/devices"
	procNetDev        = "/proc/net/dev"
)

// vbdSectorBytes is the unit of blkback's rd_sect and wr_sect.
const vbdSectorBytes = 512

// guestDevices are the counters of the guests' disks and NICs, by domid.
type guestDevices struct {
	disks map[uint32][]backend.DiskStats
	nics  map[uint32][]backend.NICStats
}

// readGuestDevices reads the block and network backends of the domains in
// want from one listing of sysDir (xenBackendDevices) and one read of
// netDev (procNetDev), as libxlDomainBlockStatsVBD and
// libxlDomainInterfaceStats read them one device at a time. A counter that
// cannot be read is -1; a host without the directory has no devices.
func readGuestDevices(sysDir, netDev string, want map[uint32]bool) guestDevices {
	gd := guestDevices{disks: map[uint32][]backend.DiskStats{}, nics: map[uint32][]backend.NICStats{}}
	entries, err := os.ReadDir(sysDir)
	if err != nil {
		return gd
	}
	var counters map[string][16]int64
	devnos := map[string]int{} // vdev -> devno, for the order
	for _, e := range entries {
		kind, domid, n, ok := backendDevice(e.Name())
		if !ok || !want[domid] {
			continue
		}
		dir := filepath.Join(sysDir, e.Name())
		switch kind {
		case "vbd":
			d := vbdStats(dir, n)
			devnos[d.Vdev] = n
			gd.disks[domid] = append(gd.disks[domid], d)
		case "vif":
			if counters == nil {
				counters = readNetDev(netDev)
			}
			gd.nics[domid] = append(gd.nics[domid], vifStats(dir, domid, n, counters))
		}
	}
	for _, d := range gd.disks {
		sort.Slice(d, func(i, j int) bool { return devnos[d[i].Vdev] < devnos[d[j].Vdev] })
	}
	for _, n := range gd.nics {
		sort.Slice(n, func(i, j int) bool { return n[i].DevID < n[j].DevID })
	}
	return gd
}

// backendDevice splits a xen-backend device name, "vbd-5-51712" or
// "vif-5-0", into its kind, domid and device number.
func backendDevice(name string) (kind string, domid uint32, n int, ok bool) {
	parts := strings.Split(name, "-")
	if len(parts) != 3 {
		return "", 0, 0, false
	}
	d, err1 := strconv.ParseUint(parts[1], 10, 32)
	num, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || num < 0 {
		return "", 0, 0, false
	}
	return parts[0], uint32(d), num, true
}

func vbdStats(dir string, devno int) backend.DiskStats {
	read := func(name string, mul int64) int64 {
		b, err := os.ReadFile(filepath.Join(dir, "statistics", name))
		if err != nil {
			return -1
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 63)
		if err != nil || v > math.MaxInt64/uint64(mul) {
			return -1
		}
		return int64(v) * mul
	}
	vdev, ok := vdevName(devno)
	if !ok {
		vdev = strconv.Itoa(devno)
	}
	return backend.DiskStats{
		Vdev: vdev, RdReq: read("rd_req", 1), RdBytes: read("rd_sect", vbdSectorBytes),
		WrReq: read("wr_req", 1), WrBytes: read("wr_sect", vbdSectorBytes),
		FlushReq: read("f_req", 1), Errors: read("oo_req", 1),
		RdTimeNs: -1, WrTimeNs: -1, FlushTimeNs: -1,
	}
}

// vifStats is the NIC devid of domid: its interface is the one netback
// made (listed under the device's net/), vifDOMID.DEVID unless named
// otherwise, and its counters are that interface's, swapped into the
// guest's view. An emulated NIC's tap (the interface's name with "-emu",
// as libxl names it for the device model) is read beside it when it
// exists.
func vifStats(dir string, domid uint32, devid int, counters map[string][16]int64) backend.NICStats {
	ifname := "vif" + strconv.FormatUint(uint64(domid), 10) + "." + strconv.Itoa(devid)
	if ents, err := os.ReadDir(filepath.Join(dir, "net")); err == nil && len(ents) == 1 {
		ifname = ents[0].Name()
	}
	s := backend.NICStats{DevID: devid, Ifname: ifname, NICCounters: guestView(counters, ifname)}
	if _, ok := counters[ifname+emuSuffix]; ok {
		s.Emulated = &backend.EmulatedNIC{Ifname: ifname + emuSuffix, NICCounters: guestView(counters, ifname+emuSuffix)}
	}
	return s
}

// emuSuffix ends the name of an emulated NIC's tap (libxl's
// libxl__device_nic_devname for LIBXL_NIC_TYPE_VIF_IOEMU).
const emuSuffix = "-emu"

// guestView is the counters of dom0's interface ifname as the guest sees
// them: /proc/net/dev's receive bytes, packets, errs, drop (fields 0..3)
// are what the guest sent, its transmit ones (8..11) what it received,
// as libvirt's virNetDevTapInterfaceStats swaps them. All are -1 when the
// interface is not listed.
func guestView(counters map[string][16]int64, ifname string) backend.NICCounters {
	c, ok := counters[ifname]
	if !ok {
		return backend.NICCounters{RxBytes: -1, RxPackets: -1, RxErrs: -1, RxDrop: -1,
			TxBytes: -1, TxPackets: -1, TxErrs: -1, TxDrop: -1}
	}
	return backend.NICCounters{
		TxBytes: c[0], TxPackets: c[1], TxErrs: c[2], TxDrop: c[3],
		RxBytes: c[8], RxPackets: c[9], RxErrs: c[10], RxDrop: c[11],
	}
}

// readNetDev reads /proc/net/dev: the 16 counters of each interface.
func readNetDev(path string) map[string][16]int64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseNetDev(f)
}

func parseNetDev(r io.Reader) map[string][16]int64 {
	out := map[string][16]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 16 {
			continue
		}
		var c [16]int64
		for i, f := range fields {
			// The kernel's counters are unsigned: a sign, or a value
			// past int64, is one that cannot be read.
			v, err := strconv.ParseUint(f, 10, 63)
			if err != nil {
				c[i] = -1
				continue
			}
			c[i] = int64(v)
		}
		out[strings.TrimSpace(name)] = c
	}
	return out
}

// vdevName is the guest's name of a virtual block device number, the
// inverse of libxl's (and libvirt's libxlDiskPathToID) numbering: xvd
// disks are major 202 with 16 minors each, or (1<<28 | disk<<8 |
// partition) past the 16th; hd disks are majors 3 and 22, 64 minors each;
// sd disks major 8, 16 minors each.
func vdevName(devno int) (string, bool) {
	if devno&(1<<28) != 0 {
		return diskName("xvd", (devno>>8)&0xfffff, devno&0xff), true
	}
	major, minor := devno>>8, devno&0xff
	switch major {
	case 202:
		return diskName("xvd", minor>>4, minor&15), true
	case 8:
		return diskName("sd", minor>>4, minor&15), true
	case 3, 22:
		disk := minor >> 6
		if major == 22 {
			disk += 2
		}
		return diskName("hd", disk, minor&63), true
	}
	return "", false
}

// diskName is virIndexToDiskName with a partition: 0 is "a", 25 "z",
// 26 "aa".
func diskName(prefix string, disk, partition int) string {
	var letters []byte
	for i := disk; i >= 0; i = i/26 - 1 {
		letters = append([]byte{byte('a' + i%26)}, letters...)
	}
	name := prefix + string(letters)
	if partition > 0 {
		name += strconv.Itoa(partition)
	}
	return name
}
