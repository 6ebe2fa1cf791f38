// Package killpoints runs the kill-point harness (cmd/virtxend-killpoints)
// for a few dozen kills, CI's share of issue 20's thousand: the daemon,
// built with -tags killpoints, is killed at random moments and at store
// writes under a mixed load, restarted and checked against the
// acknowledged history each time. The long run's figures are in docs/testing.md.
package killpoints

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// summary is the part of the harness's JSON summary the test reads.
type summary struct {
	Seed          int64            `json:"seed"`
	Kills         int              `json:"kills"`
	AtWrite       int              `json:"kills_at_store_write"`
	Random        int              `json:"kills_at_random_time"`
	BeforeServing int              `json:"kills_before_serving"`
	Steps         map[string]int   `json:"store_write_kills_by_step"`
	Acked         int64            `json:"operations_acknowledged"`
	AckedByOp     map[string]int64 `json:"acknowledged_by_operation"`
	InFlight      int              `json:"operations_in_flight_at_kills"`
	Lost          int              `json:"lost"`
	HalfApplied   int              `json:"half_applied"`
	Problems      []string         `json:"problems"`
	Wall          string           `json:"wall_time"`
}

// TestKillPointsShort: 30 kills (or 25 seconds of them) without a lost
// change, a half-applied one, a half-written file, a leftover, or two
// snapshots marked current.
func TestKillPointsShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon dozens of times")
	}
	harness := daemontest.Tool(t, "virtxend-killpoints")
	seed := time.Now().UnixNano()
	cmd := exec.Command(harness, "-kills", "30", "-duration", "25s", "-json", "-seed", fmt.Sprint(seed))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("harness (seed %d): %v, %v\n%s%s", seed, runErr, err, stdout.String(), stderr.String())
	}
	t.Logf("seed %d: %d kills (%d at store writes, %d random, %d before serving) in %s; %d operations acknowledged %v, %d in flight at the kills; kinds of write kills: %d",
		s.Seed, s.Kills, s.AtWrite, s.Random, s.BeforeServing, s.Wall, s.Acked, s.AckedByOp, s.InFlight, len(s.Steps))
	for _, p := range s.Problems {
		t.Errorf("%s", p)
	}
	if runErr != nil || s.Lost != 0 || s.HalfApplied != 0 {
		t.Fatalf("harness exit %v, lost %d, half-applied %d\n%s", runErr, s.Lost, s.HalfApplied, stderr.String())
	}
	if s.Kills < 10 || s.AtWrite == 0 || s.Random == 0 || s.Acked == 0 {
		t.Fatalf("too little was tried: %+v", s)
	}
	if s.AckedByOp["snapshot-redefine"]+s.AckedByOp["snapshot-redefine-current"] == 0 {
		t.Errorf("no snapshot was redefined: %v", s.AckedByOp)
	}
}

// TestProductionBuildHasNoKillPoint: the daemon built as users build it
// (no tags) cannot be made to kill itself: the hook's variable is not in it.
func TestProductionBuildHasNoKillPoint(t *testing.T) {
	b, err := os.ReadFile(daemontest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("VIRTXEND_KILLPOINT")) {
		t.Fatal("the production daemon contains the kill-point hook")
	}
}
