package rpc

import (
	"slices"
	"sync"
)

// job is one call waiting for a worker.
type job struct {
	high bool
	run  func()
}

// pool is libvirt's virThreadPool: normal workers take any job in arrival
// order; priority workers take only high-priority jobs, so a high-priority
// call still runs when every normal worker is stuck in a slow call.
type pool struct {
	mu   sync.Mutex
	cond *sync.Cond // wakes normal workers
	prio *sync.Cond // wakes priority workers
	jobs []job

	min, max, nPrio int // limits
	nWorkers        int // normal workers alive
	free            int // normal workers waiting for a job
	prioAlive       int // priority workers alive
	quit            bool
}

// PoolInfo is what virt-admin's srv-threadpool-info shows.
type PoolInfo struct {
	MinWorkers, MaxWorkers, PrioWorkers  int
	NWorkers, FreeWorkers, JobQueueDepth int
}

func newPool(minWorkers, maxWorkers, prioWorkers int) *pool {
	p := &pool{}
	p.cond = sync.NewCond(&p.mu)
	p.prio = sync.NewCond(&p.mu)
	p.setLimits(minWorkers, maxWorkers, prioWorkers)
	return p
}

// setLimits changes the limits, starting or retiring workers to match.
func (p *pool) setLimits(minWorkers, maxWorkers, prioWorkers int) {
	maxWorkers = max(maxWorkers, 1)
	minWorkers = min(max(minWorkers, 0), maxWorkers)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.min, p.max, p.nPrio = minWorkers, maxWorkers, max(prioWorkers, 0)
	for p.nWorkers < p.min {
		p.spawn(false)
	}
	for p.prioAlive < p.nPrio {
		p.spawn(true)
	}
	// Surplus workers notice when they wake.
	p.cond.Broadcast()
	p.prio.Broadcast()
}

// spawn starts a worker; p.mu is held.
func (p *pool) spawn(high bool) {
	if high {
		p.prioAlive++
	} else {
		p.nWorkers++
	}
	go p.work(high)
}

// submit queues a job; false if the pool is stopped.
func (p *pool) submit(j job) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quit {
		return false
	}
	p.jobs = append(p.jobs, j)
	if p.free < len(p.jobs) && p.nWorkers < p.max {
		p.spawn(false)
	}
	p.cond.Signal()
	if j.high {
		p.prio.Signal()
	}
	return true
}

func (p *pool) work(high bool) {
	for {
		j, ok := p.next(high)
		if !ok {
			return
		}
		j.run()
	}
}

// next waits for a job this worker may run; false means the worker retires.
func (p *pool) next(high bool) (job, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.quit || p.surplus(high) {
			if high {
				p.prioAlive--
			} else {
				p.nWorkers--
			}
			return job{}, false
		}
		if i := p.pick(high); i >= 0 {
			j := p.jobs[i]
			// slices.Delete clears the slot it vacates: a job left there
			// kept its call's payload (up to 32 MiB) alive until another
			// call came to overwrite it, for as long as the daemon idled.
			p.jobs = slices.Delete(p.jobs, i, i+1)
			return j, true
		}
		if high {
			p.prio.Wait()
		} else {
			p.free++
			p.cond.Wait()
			p.free--
		}
	}
}

func (p *pool) surplus(high bool) bool {
	if high {
		return p.prioAlive > p.nPrio
	}
	return p.nWorkers > p.max
}

// pick returns the index of the job a worker should take, or -1.
func (p *pool) pick(high bool) int {
	if !high {
		if len(p.jobs) > 0 {
			return 0
		}
		return -1
	}
	for i, j := range p.jobs {
		if j.high {
			return i
		}
	}
	return -1
}

func (p *pool) info() PoolInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolInfo{
		MinWorkers: p.min, MaxWorkers: p.max, PrioWorkers: p.nPrio,
		NWorkers: p.nWorkers, FreeWorkers: p.free, JobQueueDepth: len(p.jobs),
	}
}

// stop retires every worker once its current job ends, without waiting
// for a job that may never end; queued jobs are dropped.
func (p *pool) stop() {
	p.mu.Lock()
	p.quit = true
	p.jobs = nil
	p.cond.Broadcast()
	p.prio.Broadcast()
	p.mu.Unlock()
}
