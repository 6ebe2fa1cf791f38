package render

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// GoLibvirt is what go-libvirt generated from remote_protocol.x: its
// procedure numbers and the Go structs of libvirt's XDR structs.
type GoLibvirt struct {
	procs   map[string]uint32          // REMOTE_PROC_ name without prefix → number
	structs map[string]map[string]bool // remote_x_args → its Go type's fields
	names   map[string]string          // remote_x_args → its Go type's name
}

var (
	procDoc   = regexp.MustCompile(`is libvirt's REMOTE_PROC_(\w+)`)
	structDoc = regexp.MustCompile(`is libvirt's (remote_\w+)`)
)

// ReadGoLibvirt reads the module source at dir.
func ReadGoLibvirt(dir string) (*GoLibvirt, error) {
	g := &GoLibvirt{procs: map[string]uint32{}, structs: map[string]map[string]bool{}, names: map[string]string{}}
	consts, err := parseGo(filepath.Join(dir, "internal", "constants", "remote_protocol.gen.go"))
	if err != nil {
		return nil, err
	}
	for _, spec := range valueSpecs(consts) {
		m := procDoc.FindStringSubmatch(spec.Doc.Text())
		lit, ok := spec.Values[0].(*ast.BasicLit)
		if m == nil || !ok {
			continue
		}
		n, err := strconv.ParseUint(lit.Value, 0, 32)
		if err != nil {
			return nil, err
		}
		g.procs[m[1]] = uint32(n)
	}
	types, err := parseGo(filepath.Join(dir, "remote_protocol.gen.go"))
	if err != nil {
		return nil, err
	}
	g.readStructs(types)
	if len(g.procs) < 400 || len(g.names) < 400 {
		return nil, fmt.Errorf("go-libvirt in %s: only %d procedures, %d structs", dir, len(g.procs), len(g.names))
	}
	return g, nil
}

func parseGo(path string) (*ast.File, error) {
	return parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
}

// valueSpecs are the single-name constants of f that have a value and a
// doc comment.
func valueSpecs(f *ast.File) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && len(vs.Values) == 1 && vs.Doc != nil {
			out = append(out, vs)
		}
		return true
	})
	return out
}

// readStructs records the structs whose doc names libvirt's struct.
func (g *GoLibvirt) readStructs(f *ast.File) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE || gd.Doc == nil || len(gd.Specs) != 1 {
			continue
		}
		ts := gd.Specs[0].(*ast.TypeSpec)
		st, isStruct := ts.Type.(*ast.StructType)
		m := structDoc.FindStringSubmatch(gd.Doc.Text())
		if !isStruct || m == nil {
			continue
		}
		fields := map[string]bool{}
		for _, fl := range st.Fields.List {
			for _, n := range fl.Names {
				fields[n.Name] = true
			}
		}
		g.names[m[1]], g.structs[m[1]] = ts.Name.Name, fields
	}
}

// Number is go-libvirt's number for procedure name, if it has it.
func (g *GoLibvirt) Number(name string) (uint32, bool) {
	n, ok := g.procs[name]
	return n, ok
}

// Struct is the Go type of libvirt's remote_<name>_<kind> ("args", "ret"
// or "msg"), qualified with the package name.
func (g *GoLibvirt) Struct(name, kind string) (string, bool) {
	t, ok := g.names["remote_"+strings.ToLower(name)+"_"+kind]
	if !ok {
		return "", false
	}
	return "libvirt." + t, true
}

// Field is the Go field of libvirt's struct member param in
// remote_<name>_args, as go-libvirt names it.
func (g *GoLibvirt) Field(name, param string) (string, error) {
	field := strings.ToUpper(param[:1]) + param[1:]
	if !g.structs["remote_"+strings.ToLower(name)+"_args"][field] {
		return "", fmt.Errorf("%s: go-libvirt's args have no field %s for %s", name, field, param)
	}
	return field, nil
}
