package rpc

import (
	"sync"
	"testing"
)

// TestPollTurn: waiters return at the next poll, many at once and one
// after another, and at once after close.
func TestPollTurn(t *testing.T) {
	turn := newPollTurn()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				turn.wait()
			}
		}()
	}
	wg.Wait()
	turn.close()
	turn.wait()
	var none *pollTurn
	none.wait()
	none.close()
}
