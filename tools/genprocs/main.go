// Command genprocs generates tables of libvirt's remote program.
//
//	go run ./tools/genprocs extract -libvirt DIR -o tools/genprocs/libvirt-VERSION.procs
//
// reads a libvirt source tree and writes what it says about every
// procedure (number, name, entry point, priority, stream, read-only rule,
// driver, ...) to a data file that is committed and reviewed, so that
// building never needs libvirt's source (see packages procfile and
// extract). Without a command,
//
//	go run ./tools/genprocs -o internal/remote/procnames.gen.go
//
// writes the table of procedure names from go-libvirt's constants.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"

	"virtxend/tools/genprocs/extract"
	"virtxend/tools/genprocs/procfile"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "extract" {
		log.SetFlags(0)
		log.SetPrefix("genprocs: ")
		if err := runExtract(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	runNames()
}

func runExtract(args []string) error {
	fs := flag.NewFlagSet("extract", flag.ExitOnError)
	dir := fs.String("libvirt", "", "libvirt source tree")
	out := fs.String("o", "", "data file to write (default libvirt-VERSION.procs)")
	fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("extract: -libvirt DIR is required")
	}
	f, err := extract.Extract(*dir)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = "libvirt-" + f.Version + ".procs"
	}
	var b bytes.Buffer
	if err := procfile.Write(&b, f, procfile.Header); err != nil {
		return err
	}
	return os.WriteFile(*out, b.Bytes(), 0o644)
}
