package driver

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// inParallel returns f of each item, in the items' order, computed on as
// many goroutines as the process has CPUs. The start-up reads use it: with
// 1,000 guests running, parsing their status files one after another was
// most of the time to READY, on one core of several.
func inParallel[T, R any](items []T, f func(T) R) []R {
	out := make([]R, len(items))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				out[i] = f(items[i])
			}
		}()
	}
	wg.Wait()
	return out
}
