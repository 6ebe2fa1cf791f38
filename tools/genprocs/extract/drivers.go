package extract

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"virtxend/tools/genprocs/procfile"
)

// driverTables names the driver tables of the client's remote driver
// (src/remote/remote_driver.c) by the driver they implement; libvirt's
// virtxend serves the hypervisor one and opens libvirt's daemons, by these
// URI names, for the others.
var driverTables = map[string]string{
	"hypervisor_driver":  "hypervisor",
	"interface_driver":   "interface",
	"network_driver":     "network",
	"node_device_driver": "nodedev",
	"nwfilter_driver":    "nwfilter",
	"secret_driver":      "secret",
	"storage_driver":     "storage",
}

// clientDriver is the client side's remote driver, which sends each
// procedure from the driver callbacks of one driver table.
type clientDriver struct {
	file *cfile
	// table lists, for each remote function, the drivers whose tables
	// hold it as a callback.
	table map[string][]string
	rev   map[string][]string
}

var (
	tableDecl  = regexp.MustCompile(`(?ms)^static vir\w+Driver (\w+) = \{$(.*?)^\};`)
	tableEntry = regexp.MustCompile(`\.\w+\s*=\s*(\w+)`)
)

func readClientDriver(path string) (*clientDriver, error) {
	f, err := readC(path)
	if err != nil {
		return nil, err
	}
	d := &clientDriver{file: f, table: map[string][]string{}, rev: f.reverseRefs()}
	found := map[string]bool{}
	for _, m := range tableDecl.FindAllStringSubmatch(f.text, -1) {
		drv, ok := driverTables[m[1]]
		if !ok {
			continue // connect_driver, state_driver, the stream driver
		}
		found[drv] = true
		for _, e := range tableEntry.FindAllStringSubmatch(m[2], -1) {
			d.table[e[1]] = append(d.table[e[1]], drv)
		}
	}
	if len(found) != len(driverTables) {
		return nil, errorf(f, "found driver tables %v, want %d", found, len(driverTables))
	}
	return d, nil
}

// driverOf finds the one driver whose callbacks send p: the functions that
// name REMOTE_PROC_<name> (and the generated remote<ProcName>), and the
// table callbacks that reach them through the file's calls.
func (d *clientDriver) driverOf(p xproc) (string, error) {
	senders := d.file.users("REMOTE_PROC_" + p.name)
	if p.clientGenerated() {
		senders = append(senders, "remote"+procfile.ProcName(p.name))
	}
	drivers := map[string]bool{}
	reached := reaching(d.rev, senders, func(string) bool { return false })
	for fn := range reached {
		for _, drv := range d.table[fn] {
			drivers[drv] = true
		}
	}
	if len(drivers) != 1 {
		return "", fmt.Errorf("REMOTE_PROC_%s: sent from the callbacks of %v drivers, want one", p.name, keys(drivers))
	}
	return keys(drivers)[0], nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkFixups compares gendispatch.pl's fixup_name with procfile.Fixups,
// which name the generated functions here and in the Go code.
func checkFixups(gendispatch string) error {
	start := strings.Index(gendispatch, "sub fixup_name")
	if start < 0 {
		return fmt.Errorf("gendispatch.pl has no fixup_name")
	}
	body, _, _ := strings.Cut(gendispatch[start:], "\n}")
	var got [][2]string
	for _, m := range regexp.MustCompile(`\$name =~ s/([^/]*)/([^/]*)/;`).FindAllStringSubmatch(body, -1) {
		got = append(got, [2]string{m[1], m[2]})
	}
	if fmt.Sprint(got) != fmt.Sprint(procfile.Fixups) {
		return fmt.Errorf("gendispatch.pl's fixup_name is %v, procfile.Fixups %v", got, procfile.Fixups)
	}
	return nil
}
