package extract

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"virtxend/tools/genprocs/procfile"
)

// entry is a function of libvirt's API layer (src/libvirt*.c): what the
// daemon's dispatchers call, which checks the connection and then calls
// the driver or reports it unsupported.
type entry struct {
	file   *cfile
	body   string
	errors procfile.ErrorDomain // the file's VIR_FROM_THIS
}

// api is every function of src/libvirt*.c, by name.
type api map[string]*entry

var fromThis = regexp.MustCompile(`(?m)^#define VIR_FROM_THIS VIR_FROM_(\w+)$`)

func readAPI(srcDir string, c *consts) (api, error) {
	files, err := filepath.Glob(filepath.Join(srcDir, "libvirt*.c"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no src/libvirt*.c in %s", srcDir)
	}
	out := api{}
	for _, path := range files {
		f, err := readC(path)
		if err != nil {
			return nil, err
		}
		m := fromThis.FindStringSubmatch(f.text)
		if m == nil {
			return nil, errorf(f, "no VIR_FROM_THIS")
		}
		v, err := c.lookup("VIR_FROM_" + m[1])
		if err != nil {
			return nil, errorf(f, "%v", err)
		}
		for name, body := range f.defs {
			out[name] = &entry{file: f, body: body, errors: procfile.ErrorDomain{Name: m[1], Value: int(v)}}
		}
	}
	return out, nil
}

// reportsUnsupported says whether the function raises libvirt's "this
// function is not supported by the connection driver" itself.
func (e *entry) reportsUnsupported() bool {
	return strings.Contains(e.body, "virReportUnsupportedError(")
}

var (
	// virCheckReadOnlyGoto(conn->flags, error); with the line before it
	checkRO = regexp.MustCompile(`(?m)^(.*)\n[ \t]*virCheckReadOnlyGoto\(`)
	// "if (COND)" alone on a line
	ifLine = regexp.MustCompile(`^\s*if \((.+)\)\s*$`)
	// if ((conn->flags & VIR_CONNECT_RO) && (COND)) { virReportError(VIR_ERR_OPERATION_DENIED, "%s", _("TEXT"));
	deniedBlock = regexp.MustCompile(`if \(\((?:\w+->)*flags & VIR_CONNECT_RO\) && \((.+?)\)\) \{ ` +
		`virReportError\(VIR_ERR_OPERATION_DENIED, "%s", _\("((?:[^"\\]|\\.)*)"\)\);`)
	space = regexp.MustCompile(`\s+`)
)

// readOnly finds what the function does on a read-only connection:
// virCheckReadOnlyGoto, alone (always refused) or under "if (COND)", or
// its own VIR_ERR_OPERATION_DENIED for some flags. Any other use of
// VIR_CONNECT_RO is reported, so that a new pattern is not missed.
func (e *entry) readOnly(name string, c *consts) (procfile.ReadOnly, error) {
	var ro procfile.ReadOnly
	var conds []string
	for _, m := range checkRO.FindAllStringSubmatch(e.body, -1) {
		prev := strings.TrimSpace(m[1])
		switch cm := ifLine.FindStringSubmatch(m[1]); {
		case prev == "" || strings.HasSuffix(prev, ";"):
			ro = procfile.ReadOnly{Deny: true}
		case cm != nil:
			conds = append(conds, cm[1])
		default:
			return ro, fmt.Errorf("%s: virCheckReadOnlyGoto after %q not understood", name, prev)
		}
	}
	flat := space.ReplaceAllString(e.body, " ")
	blocks := deniedBlock.FindAllStringSubmatch(flat, -1)
	if n := strings.Count(e.body, "VIR_CONNECT_RO"); n != len(blocks) {
		return ro, fmt.Errorf("%s: %d uses of VIR_CONNECT_RO, %d understood", name, n, len(blocks))
	}
	for _, b := range blocks {
		conds = append(conds, b[1])
		ro.Message = b[2]
	}
	switch {
	case ro.Deny && ro.When == nil && len(conds) == 0, !ro.Deny && len(conds) == 0:
		return ro, nil
	case ro.Deny:
		return ro, fmt.Errorf("%s: refuses read-only connections always and when %v", name, conds)
	case len(conds) > 1:
		return ro, fmt.Errorf("%s: several read-only conditions %v", name, conds)
	}
	cond, err := parseCond(conds[0], c)
	if err != nil {
		return ro, fmt.Errorf("%s: %w", name, err)
	}
	ro.Deny, ro.When = true, &cond
	return ro, nil
}

var (
	condMask  = regexp.MustCompile(`^(\w+) & (.+)$`)
	condEqual = regexp.MustCompile(`^(\w+) == (\w+)$`)
)

// parseCond reads "flags & VIR_X", "flags & (VIR_X | VIR_Y)" or
// "source == VIR_Z".
func parseCond(s string, c *consts) (procfile.Cond, error) {
	s = strings.TrimSpace(space.ReplaceAllString(s, " "))
	op, m := "&", condMask.FindStringSubmatch(s)
	if m == nil {
		op, m = "==", condEqual.FindStringSubmatch(s)
	}
	if m == nil {
		return procfile.Cond{}, fmt.Errorf("read-only condition %q not understood", s)
	}
	v, err := c.eval(m[2])
	if err != nil {
		return procfile.Cond{}, err
	}
	return procfile.Cond{Param: m[1], Op: op, Value: v}, nil
}
