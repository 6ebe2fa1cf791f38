package libxl

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"virtxend/internal/backend"
)

func TestVdevName(t *testing.T) {
	for devno, want := range map[int]string{
		202<<8 | 0: "xvda", 202<<8 | 16: "xvdb", 202<<8 | 17: "xvdb1", 202<<8 | 15<<4: "xvdp",
		1<<28 | 16<<8: "xvdq", 1<<28 | 26<<8 | 3: "xvdaa3",
		3<<8 | 0: "hda", 3<<8 | 64: "hdb", 22<<8 | 0: "hdc", 22<<8 | 64 | 2: "hdd2",
		8<<8 | 0: "sda", 8<<8 | 33: "sdc1",
	} {
		if got, ok := vdevName(devno); !ok || got != want {
			t.Errorf("vdevName(%d) = %q, %v; want %q", devno, got, ok, want)
		}
	}
	if got, ok := vdevName(7 << 8); ok {
		t.Errorf("major 7 named %q", got)
	}
}

// fakeBackends lays out /sys/bus/xen-backend/devices as dom0 shows it:
// each device a directory, a vbd's counters in statistics/, a vif's
// interface under net/.
func fakeBackends(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for path, content := range files {
		p := filepath.Join(dir, path)
		if strings.HasSuffix(path, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
vif5.0:    2000      20    1    2    0     0          0         0     9000      90    3    4    0     0       0          0
vif5.0-emu:   30       3    0    0    0     0          0         0       40       4    0    0    0     0       0          0
 web-5:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`

// TestReadGuestDevices: the counters of the guests asked for, read as
// libvirt reads them: sectors of 512 bytes, the vif's receive counters as
// the guest's transmit ones, a named interface by its name, an emulated
// NIC's tap beside its vif, -1 for what cannot be read.
func TestReadGuestDevices(t *testing.T) {
	stats := func(rd, rs, wr, ws, f, oo string) map[string]string {
		m := map[string]string{}
		for name, v := range map[string]string{"rd_req": rd, "rd_sect": rs, "wr_req": wr, "wr_sect": ws, "f_req": f, "oo_req": oo} {
			if v != "" {
				m[name] = v + "\n"
			}
		}
		return m
	}
	files := map[string]string{
		"vif-5-0/net/vif5.0/": "", "vif-5-1/net/web-5/": "", "vif-6-0/net/vif6.0/": "",
		"console-5-0/": "", "vbd-6-51712/": "", "vbd-5-bad/": "",
	}
	for dev, s := range map[string]map[string]string{
		"vbd-5-51728": stats("7", "56", "3", "24", "1", "0"),
		"vbd-5-51712": stats("10", "80", "4", "16", "2", ""),
	} {
		for name, v := range s {
			files[dev+"/statistics/"+name] = v
		}
	}
	sys := fakeBackends(t, files)
	nd := filepath.Join(t.TempDir(), "dev")
	os.WriteFile(nd, []byte(netDev), 0o644)
	got := readGuestDevices(sys, nd, map[uint32]bool{5: true})
	wantDisks := []backend.DiskStats{
		{Vdev: "xvda", RdReq: 10, RdBytes: 80 * 512, WrReq: 4, WrBytes: 16 * 512, FlushReq: 2, Errors: -1, RdTimeNs: -1, WrTimeNs: -1, FlushTimeNs: -1},
		{Vdev: "xvdb", RdReq: 7, RdBytes: 56 * 512, WrReq: 3, WrBytes: 24 * 512, FlushReq: 1, Errors: 0, RdTimeNs: -1, WrTimeNs: -1, FlushTimeNs: -1},
	}
	if !reflect.DeepEqual(got.disks[5], wantDisks) {
		t.Errorf("disks %+v\nwant %+v", got.disks[5], wantDisks)
	}
	wantNICs := []backend.NICStats{
		{DevID: 0, Ifname: "vif5.0", NICCounters: backend.NICCounters{RxBytes: 9000, RxPackets: 90, RxErrs: 3, RxDrop: 4,
			TxBytes: 2000, TxPackets: 20, TxErrs: 1, TxDrop: 2},
			Emulated: &backend.EmulatedNIC{Ifname: "vif5.0-emu", NICCounters: backend.NICCounters{RxBytes: 40, RxPackets: 4, TxBytes: 30, TxPackets: 3}}},
		{DevID: 1, Ifname: "web-5", NICCounters: backend.NICCounters{RxBytes: 20, RxPackets: 2, TxBytes: 10, TxPackets: 1}},
	}
	if !reflect.DeepEqual(got.nics[5], wantNICs) {
		t.Errorf("NICs %+v\nwant %+v", got.nics[5], wantNICs)
	}
	if len(got.disks) != 1 || len(got.nics) != 1 {
		t.Errorf("devices of domains not asked for: %+v %+v", got.disks, got.nics)
	}
	none := readGuestDevices(filepath.Join(sys, "nosuch"), nd, map[uint32]bool{5: true})
	if len(none.disks)+len(none.nics) != 0 {
		t.Errorf("devices without sysfs: %+v", none)
	}
	gone := readGuestDevices(sys, filepath.Join(t.TempDir(), "nosuch"), map[uint32]bool{5: true})
	if n := gone.nics[5][0]; n.RxBytes != -1 || n.TxPackets != -1 {
		t.Errorf("without /proc/net/dev: %+v", n)
	}
}
