package sim

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs the console daemon when the host under test starts this
// test binary as one (Options.ConsoleCommand), as the daemon's binary does.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == ConsoledName {
		os.Exit(ConsoledMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}
