package driver

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/config"
	"virtxend/internal/paths"
	"virtxend/internal/store"
)

// TestConcurrentDefineUndefine hammers the driver from many goroutines;
// afterwards the list and the config directory agree.
func TestConcurrentDefineUndefine(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < 40; i++ {
				n := byte(r.Intn(6)) + 1 // names shared between goroutines
				name := fmt.Sprintf("c%d", n)
				switch r.Intn(5) {
				case 0, 1:
					drv.Define(ctx, domXML(name, n, ""), 0)
				case 2:
					drv.Undefine(ctx, domOf(n), 0)
				case 3:
					drv.Create(ctx, domOf(n), 0)
				case 4:
					drv.Destroy(ctx, domOf(n), 0)
				}
				drv.ListAll(ctx, 0)
			}
		}(g)
	}
	wg.Wait()
	onDisk, _ := store.ListNames(e.root.DomainConfigDir(), ".xml")
	persistent := map[string]bool{}
	list, _ := drv.ListAll(ctx, 0)
	for _, d := range list {
		if p, _ := drv.IsPersistent(ctx, d); p && d.ID != 0 {
			persistent[d.Name] = true
		}
	}
	if len(onDisk) != len(persistent) {
		t.Fatalf("on disk %v, persistent %v", onDisk, persistent)
	}
	for _, n := range onDisk {
		if !persistent[n] {
			t.Fatalf("config %s on disk but not persistent in the driver", n)
		}
	}
	// A new driver sees exactly the same.
	drv2, _ := e.restart(drv)
	list2, _ := drv2.ListAll(ctx, 0)
	if len(list2) != len(list) {
		t.Fatalf("after restart %d domains, before %d", len(list2), len(list))
	}
}

const crashChildEnv = "VIRTXEND_DRIVER_CRASH_CHILD"

// TestCrashChild is the child of TestKill9Consistency: it runs a stream of
// defines and undefines, printing "B op name" before and "A op name"
// after each acknowledged one, until killed.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashChildEnv)
	if root == "" {
		t.Skip("only run as a child of TestKill9Consistency")
	}
	cfg := config.DefaultLibxl()
	p := paths.Under(root)
	h := mustSim(t, p, cfg)
	drv, err := New(cfg, p, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stdout, s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; ; i++ {
				n := byte(g*10 + r.Intn(8) + 1)
				name := fmt.Sprintf("k%d", n)
				if r.Intn(3) == 0 {
					say("B undefine " + name)
					if drv.Undefine(ctx, domOf(n), 0) == nil {
						say("A undefine " + name)
					}
				} else {
					say("B define " + name)
					if _, err := drv.Define(ctx, domXML(name, n, fmt.Sprintf("<description>%d</description>", i)), 0); err == nil {
						say("A define " + name)
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

func mustSim(t *testing.T, p paths.Paths, cfg *config.Libxl) backend.Backend {
	t.Helper()
	h, err := simOpen(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestKill9Consistency kills a driver process with SIGKILL in the middle of
// a stream of concurrent defines and undefines, then checks that a new
// driver sees every acknowledged operation and that no file is partial.
func TestKill9Consistency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]string{}     // name -> last acknowledged op
	inFlight := map[string]bool{}    // names with an unacknowledged op
	history := map[string][]string{} // name -> every line about it, for a failure's report
	sc := bufio.NewScanner(out)
	lines := 0
	for lines < 400 && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		lines++
		history[f[2]] = append(history[f[2]], f[0]+" "+f[1])
		switch f[0] {
		case "B":
			inFlight[f[2]] = true
		case "A":
			acked[f[2]] = f[1]
			delete(inFlight, f[2])
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	// Lines printed before the kill but not yet read do not matter: any op
	// begun after what we read is simply in flight for our purposes. They
	// must all be read, to the end of the pipe, before Wait: Wait closes
	// the pipe, and an operation whose lines were lost with it (an
	// undefine after the last define we read) looked like a lost define.
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 {
			inFlight[f[2]] = true
			history[f[2]] = append(history[f[2]], f[0]+" "+f[1]+" (after the kill)")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the child's lines: %v", err)
	}
	cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}
	t.Logf("%d lines read, %d names acknowledged, %d in flight at the kill", lines, len(acked), len(inFlight))

	e := &env{t: t, root: paths.Under(root), cfg: config.DefaultLibxl(), boot: "", delay: -1}
	h, err := simOpen(e.root, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	for name, op := range acked {
		if inFlight[name] {
			continue
		}
		_, err := drv.LookupByName(ctx, name)
		if op == "define" && err != nil {
			_, statErr := os.Stat(filepath.Join(e.root.DomainConfigDir(), name+".xml"))
			t.Errorf("acknowledged define of %s lost (config file: %v; its lines: %v)", name, statErr, history[name])
		}
		if op == "undefine" && err == nil {
			t.Errorf("acknowledged undefine of %s lost", name)
		}
	}
	// Every config file parses; no temporary is left where loaders look.
	names, _ := store.ListNames(e.root.DomainConfigDir(), ".xml")
	for _, n := range names {
		if _, err := readConfig(filepath.Join(e.root.DomainConfigDir(), n+".xml")); err != nil {
			t.Errorf("partial config %s: %v", n, err)
		}
	}
	entries, _ := os.ReadDir(e.root.DomainConfigDir())
	for _, en := range entries {
		if store.IsTemp(en.Name()) {
			t.Errorf("temporary %s survived restart", en.Name())
		}
	}
}
