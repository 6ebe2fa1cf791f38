//go:build profile

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// A daemon built with -tags profile and VIRTXEND_PROFILE=BASE set writes
// profiles for `go tool pprof`: on each SIGUSR2 a heap profile to
// BASE.heap.N (-sample_index=inuse_space for what is held at the last
// collection, alloc_space for what was allocated since the start), with
// the goroutines' stacks in BASE.goroutine.N; SIGUSR1
// starts a CPU profile and the next SIGUSR1 writes it to BASE.cpu.N.
// Production builds have no such handlers: both signals keep their default
// action there.
func init() {
	base := os.Getenv("VIRTXEND_PROFILE")
	if base == "" {
		return
	}
	runtime.MemProfileRate = 64 << 10
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go profileOnSignals(base, sigs)
}

func profileOnSignals(base string, sigs <-chan os.Signal) {
	var cpu *os.File
	for heaps, cpus := 1, 1; ; {
		switch <-sigs {
		case syscall.SIGUSR2:
			for _, p := range []string{"heap", "goroutine"} {
				if f, err := os.Create(fmt.Sprintf("%s.%s.%d", base, p, heaps)); err == nil {
					pprof.Lookup(p).WriteTo(f, map[string]int{"goroutine": 1}[p])
					f.Close()
				}
			}
			heaps++
		case syscall.SIGUSR1:
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
				cpu = nil
				cpus++
				continue
			}
			if f, err := os.Create(fmt.Sprintf("%s.cpu.%d", base, cpus)); err == nil && pprof.StartCPUProfile(f) == nil {
				cpu = f
			}
		}
	}
}
