package extract

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// xproc is a procedure as src/remote/remote_protocol.x declares it.
type xproc struct {
	num      uint32
	name     string // without REMOTE_PROC_
	generate string // @generate: none, client, server or both
	high     bool   // @priority: high
	stream   string // "read" (@readstream) or "write" (@writestream)
	args     bool   // remote_<name>_args is defined
	ret      bool   // remote_<name>_ret is defined
	message  bool   // remote_<name>_msg is defined: an event message
}

var (
	// the annotation comment and the enum value it annotates
	procDecl   = regexp.MustCompile(`(?s)/\*\*((?:[^*]|\*[^/])*)\*/\s*REMOTE_PROC_(\w+)\s*=\s*(\d+)`)
	annotation = regexp.MustCompile(`@(\w+)\s*:\s*(\S+)`)
	procValue  = regexp.MustCompile(`REMOTE_PROC_\w+\s*=\s*\d+`)
	structDecl = regexp.MustCompile(`(?m)^struct remote_(\w+)_(args|ret|msg)\b`)
)

// readProtocol reads the procedures of remote_protocol.x, in number order.
func readProtocol(path string) ([]xproc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src := string(b)
	structs := map[string]bool{}
	for _, m := range structDecl.FindAllStringSubmatch(src, -1) {
		structs[m[1]+"_"+m[2]] = true
	}
	var procs []xproc
	for _, m := range procDecl.FindAllStringSubmatch(src, -1) {
		p, err := newXProc(m[2], m[3], m[1], structs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if n := len(procs); n > 0 && procs[n-1].num >= p.num {
			return nil, fmt.Errorf("%s: REMOTE_PROC_%s = %d out of order", path, p.name, p.num)
		}
		procs = append(procs, p)
	}
	if all := len(procValue.FindAllString(src, -1)); len(procs) == 0 || all != len(procs) {
		return nil, fmt.Errorf("%s: %d procedures, %d of them annotated", path, all, len(procs))
	}
	return procs, nil
}

// handWrittenStreams are the procedures that open a stream without saying
// so in an annotation: their dispatchers are written by hand
// (@generate: none) and make the stream themselves
// (remoteDispatchDomainMigratePrepareTunnel3Params).
var handWrittenStreams = map[string]string{
	"DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS": "write",
}

func newXProc(name, num, notes string, structs map[string]bool) (xproc, error) {
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return xproc{}, err
	}
	lower := strings.ToLower(name)
	p := xproc{num: uint32(n), name: name, args: structs[lower+"_args"], ret: structs[lower+"_ret"],
		message: structs[lower+"_msg"]}
	for _, a := range annotation.FindAllStringSubmatch(notes, -1) {
		switch a[1] {
		case "generate":
			p.generate = a[2]
		case "priority":
			p.high = a[2] == "high"
		case "readstream":
			p.stream = "read"
		case "writestream":
			p.stream = "write"
		}
	}
	if p.stream == "" {
		p.stream = handWrittenStreams[name]
	}
	switch p.generate {
	case "none", "client", "server", "both":
	default:
		return xproc{}, fmt.Errorf("REMOTE_PROC_%s: @generate %q", name, p.generate)
	}
	return p, nil
}

// serverGenerated says whether gendispatch.pl writes the daemon's
// dispatcher, which then calls vir<ProcName>.
func (p xproc) serverGenerated() bool { return p.generate == "both" || p.generate == "server" }

// clientGenerated says whether gendispatch.pl writes remote<ProcName> in
// the client's remote driver.
func (p xproc) clientGenerated() bool { return p.generate == "both" || p.generate == "client" }
