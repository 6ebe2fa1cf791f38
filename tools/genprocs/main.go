// Command genprocs generates tables of libvirt's remote program.
//
//	go run ./tools/genprocs extract -libvirt DIR -o tools/genprocs/libvirt-VERSION.procs
//
// reads a libvirt source tree and writes what it says about every
// procedure (number, name, entry point, priority, stream, read-only rule,
// driver, ...) to a data file that is committed and reviewed, so that
// building never needs libvirt's source (see packages procfile and
// extract);
//
//	go run ./tools/genprocs render -procs FILE -o internal/remote/procs.gen.go
//
// writes that table in Go with go-libvirt's args and ret types (see
// package render). Without a command,
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
	"path/filepath"

	"virtxend/tools/genprocs/extract"
	"virtxend/tools/genprocs/procfile"
	"virtxend/tools/genprocs/render"
)

func main() {
	commands := map[string]func([]string) error{"extract": runExtract, "render": runRender}
	if len(os.Args) > 1 && commands[os.Args[1]] != nil {
		log.SetFlags(0)
		log.SetPrefix("genprocs: ")
		if err := commands[os.Args[1]](os.Args[2:]); err != nil {
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

func runRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	in := fs.String("procs", "", "data file written by extract")
	out := fs.String("o", "procs.gen.go", "Go file to write")
	fs.Parse(args)
	if *in == "" {
		return fmt.Errorf("render: -procs FILE is required")
	}
	r, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := procfile.Parse(r)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	dir, err := moduleDir()
	if err != nil {
		return err
	}
	g, err := render.ReadGoLibvirt(dir)
	if err != nil {
		return err
	}
	src, err := render.Render(f, g, filepath.Base(*in))
	if err != nil {
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}
