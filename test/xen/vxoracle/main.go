// Command vxoracle compares what libvirt's own Xen driver and virtxend answered to the
// same virsh session on the same Xen host (test/xen/oracle.sh runs it in dom0):
//
//	vxoracle compare [-known FILE] [-inputs DIR]... [-report FILE] LIBVIRT-DIR VIRTXEND-DIR
//	vxoracle json-libvirt LOGDIR OUTDIR    libvirt's "Domain start: JSON" lines, one file a guest
//	vxoracle json-virtxend LOGFILE OUTDIR  virtxend's "Domain start" debug records, likewise
//	vxoracle sparse FILE                   punch holes where FILE has whole zero blocks
//
// compare reads each side's transcripts (AREA.txt, sections headed "@@@ area/section") and
// json/NAME.json, normalizes what must differ between two daemons (domain ids, uuids and MACs
// they generated, pty numbers, autoport ports, CPU time, the socket in the URI), diffs each
// section, and prints one "CHECK PASS|FAIL oracle-AREA: ..." line per area: it fails on any
// difference that the known-differences file does not list (see known.go for its format).
// Every difference, listed or not, goes to the report.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "compare":
		err = compareCmd(os.Args[2:])
	case "json-libvirt":
		err = extractCmd(os.Args[2:], extractLibvirt)
	case "json-virtxend":
		err = extractCmd(os.Args[2:], extractVirtxend)
	case "sparse":
		if len(os.Args) != 3 {
			usage()
		}
		err = sparse(os.Args[2])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vxoracle:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vxoracle compare [-known FILE] [-inputs DIR]... [-report FILE] LIBVIRT-DIR VIRTXEND-DIR\n"+
		"       vxoracle json-libvirt LOGDIR OUTDIR\n       vxoracle json-virtxend LOGFILE OUTDIR\n"+
		"       vxoracle sparse FILE")
	os.Exit(2)
}

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func compareCmd(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	known := fs.String("known", "", "the known-differences file")
	report := fs.String("report", "", "where to write every difference (default: LIBVIRT-DIR/../report.txt)")
	var inputs multiFlag
	fs.Var(&inputs, "inputs", "a directory of the session's inputs: the uuids and MACs in them are kept as they are")
	fs.Parse(args)
	if fs.NArg() != 2 {
		usage()
	}
	var kn *Known
	if *known != "" {
		var err error
		if kn, err = LoadKnown(*known); err != nil {
			return err
		}
	} else {
		kn = &Known{}
	}
	norm, err := NewNormalizer(inputs)
	if err != nil {
		return err
	}
	res, err := Compare(fs.Arg(0), fs.Arg(1), norm, kn)
	if err != nil {
		return err
	}
	rp := *report
	if rp == "" {
		rp = fs.Arg(0) + "/../report.txt"
	}
	if err := os.WriteFile(rp, []byte(res.Report()), 0o644); err != nil {
		return err
	}
	fmt.Print(res.TimingReport(10))
	fmt.Print(res.Checks())
	return nil
}
