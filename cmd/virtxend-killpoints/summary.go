package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// summary is a run's figures. Lost counts acknowledged changes the
// restarted daemon did not show; HalfApplied, operations in flight that
// left neither their before nor their after state; Problems, every fault
// found (those two included).
type summary struct {
	Seed            int64              `json:"seed"`
	Kills           int                `json:"kills"`
	AtWrite         int                `json:"kills_at_store_write"`
	Random          int                `json:"kills_at_random_time"`
	NoWrite         int                `json:"kills_at_cycle_limit"`
	BeforeServing   int                `json:"kills_before_serving"`
	Recovery        int                `json:"kills_during_recovery"`
	RecoveryServed  int                `json:"recovery_kills_after_serving"`
	Steps           map[string]int     `json:"store_write_kills_by_step"`
	Acked           int64              `json:"operations_acknowledged"`
	AckedByOp       map[string]int64   `json:"acknowledged_by_operation"`
	InFlight        int                `json:"operations_in_flight_at_kills"`
	InFlightByOp    map[string]*flight `json:"in_flight_by_operation"`
	InFlightApplied int                `json:"in_flight_found_applied"`
	InFlightPartial int                `json:"in_flight_found_in_between"`
	Leftovers       int                `json:"leftovers_of_kills"`
	Lost            int                `json:"lost"`
	HalfApplied     int                `json:"half_applied"`
	Problems        []string           `json:"problems"`
	Wall            string             `json:"wall_time"`
	KeptRoot        string             `json:"kept_root,omitempty"`
}

// flight counts one operation's kills in flight: how many, how many found
// applied, how many in a declared in-between state.
type flight struct {
	N       int `json:"in_flight"`
	Applied int `json:"applied"`
	Partial int `json:"in_between"`
}

func newSummary(seed int64) summary {
	return summary{Seed: seed, Steps: map[string]int{}, InFlightByOp: map[string]*flight{}, Problems: []string{}}
}

func (s *summary) problem(format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
}

func (s *summary) ok() bool { return len(s.Problems) == 0 }

func (s *summary) print(w io.Writer, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s)
		return
	}
	fmt.Fprintf(w, "seed %d, wall time %s\n", s.Seed, s.Wall)
	fmt.Fprintf(w, "kills: %d (%d at a store write, %d at a random time, %d at the cycle limit, %d serving with no load;\n"+
		"  %d before the daemon served; %d of a daemon recovering from the kill before)\n",
		s.Kills, s.AtWrite, s.Random, s.NoWrite, s.RecoveryServed, s.BeforeServing, s.Recovery)
	fmt.Fprintf(w, "store-write kills by step and file (%d kinds):\n", len(s.Steps))
	for _, k := range sortedKeys(s.Steps) {
		fmt.Fprintf(w, "  %-28s %d\n", k, s.Steps[k])
	}
	fmt.Fprintf(w, "operations acknowledged: %d", s.Acked)
	for _, k := range sortedKeys(s.AckedByOp) {
		fmt.Fprintf(w, ", %s %d", k, s.AckedByOp[k])
	}
	fmt.Fprintf(w, "\nin flight at the kills: %d (%d found applied, %d in a declared in-between state, the rest not applied)",
		s.InFlight, s.InFlightApplied, s.InFlightPartial)
	fmt.Fprint(w, "; by operation, in flight/applied/in between:")
	for _, k := range sortedKeys(s.InFlightByOp) {
		f := s.InFlightByOp[k]
		fmt.Fprintf(w, " %s %d/%d/%d", k, f.N, f.Applied, f.Partial)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "temporaries and stale links left by the kills (removed by the next start): %d\n", s.Leftovers)
	fmt.Fprintf(w, "lost: %d, half-applied: %d, problems: %d\n", s.Lost, s.HalfApplied, len(s.Problems))
	for _, p := range s.Problems {
		fmt.Fprintln(w, "PROBLEM:", p)
	}
	if s.KeptRoot != "" {
		fmt.Fprintln(w, "root kept for inspection:", s.KeptRoot)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
