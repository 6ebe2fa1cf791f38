// Command genprocs generates the remote program's procedure table in two
// steps, so that building and testing never need libvirt's source:
//
//	go run ./tools/genprocs extract -libvirt DIR -o tools/genprocs/libvirt-VERSION.procs
//
// reads a libvirt source tree and writes what it says about every
// procedure (number, name, entry point, priority, stream, read-only rule,
// driver, ...) to a data file that is committed and reviewed; and
//
//	go run ./tools/genprocs render -procs FILE -o internal/remote/procs.gen.go
//
// writes that table in Go with go-libvirt's args and ret types (run by
// go generate in internal/remote). See packages procfile, extract and
// render.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"virtxend/tools/genprocs/extract"
	"virtxend/tools/genprocs/procfile"
	"virtxend/tools/genprocs/render"
)

const goLibvirt = "github.com/digitalocean/go-libvirt"

func main() {
	log.SetFlags(0)
	log.SetPrefix("genprocs: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: genprocs extract|render [flags]")
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "extract":
		err = runExtract(args)
	case "render":
		err = runRender(args)
	default:
		err = fmt.Errorf("unknown command %q: want extract or render", cmd)
	}
	if err != nil {
		log.Fatal(err)
	}
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
	dir, err := moduleDir(goLibvirt)
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

// moduleDir is where the go command keeps module mod's source.
func moduleDir(mod string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", mod, err)
	}
	return strings.TrimSpace(string(out)), nil
}
