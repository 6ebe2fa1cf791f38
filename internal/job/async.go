package job

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Progress is what an async job reports of its work while it runs, the
// counters of libvirt's virDomainJobInfo: data in all, and of it guest
// memory and disk (file) data; each with what is done and what is left.
type Progress struct {
	DataTotal, DataProcessed, DataRemaining uint64
	MemTotal, MemProcessed, MemRemaining    uint64
	DiskTotal, DiskProcessed, DiskRemaining uint64
}

// Stats is an async job as DOMAIN_GET_JOB_INFO and _STATS report it.
type Stats struct {
	Operation Operation
	Status    Status
	// Phase names the step the job is in ("" before the first), for logs
	// and the job's owner; libvirt's migration phases are an example.
	Phase    string
	Started  time.Time
	Elapsed  time.Duration
	Progress Progress
	// Err is why a failed or cancelled job ended.
	Err error
}

// Async is a running asynchronous job.
type Async struct {
	obj     *Object
	op      Operation
	owner   Owner
	started time.Time
	allowed map[Kind]bool
	ctx     context.Context
	cancel  context.CancelCauseFunc

	mu       sync.Mutex
	phase    string
	progress Progress
	bounded  bool
}

// BeginAsync starts an async job doing op for the call in ctx. It waits,
// as Begin does, while a synchronous job or another async job runs.
// allowed are the synchronous jobs that may run beside it (none given:
// DefaultAllowed). The job's context keeps ctx's values but not its
// cancellation or deadline: the job goes on when the calling client goes
// away, until it ends or is aborted.
func (o *Object) BeginAsync(ctx context.Context, op Operation, wait time.Duration, allowed ...Kind) (*Async, error) {
	if len(allowed) == 0 {
		allowed = DefaultAllowed
	}
	a := &Async{obj: o, op: op, owner: ownerOf(ctx), allowed: map[Kind]bool{}}
	for _, k := range allowed {
		a.allowed[k] = true
	}
	// An async job needs the synchronous slot free and no other async job:
	// it waits as a synchronous job that no async job allows.
	if err := o.begin(ctx, asyncStart, nil, wait); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active, o.owner = None, Owner{}
	a.started = time.Now()
	a.ctx, a.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	o.async = a
	o.wakeLocked() // what it allows may start now
	return a, nil
}

// asyncStart is the kind an async job waits as; no async job allows it.
const asyncStart = Kind(-1)

func (a *Async) allows(k Kind) bool { return a.allowed[k] }

// Context is the job's context: done once the job is aborted or ended.
func (a *Async) Context() context.Context { return a.ctx }

// Begin takes the synchronous slot for a step of the job (libvirt's nested
// job), waiting for a query or other allowed job to finish; End on the
// Object releases it. An abort does not stop the wait: the job's owner
// decides what an abort means for the step (the last step of a save that
// is complete has to finish).
func (a *Async) Begin(wait time.Duration) error {
	return a.obj.begin(context.WithoutCancel(a.ctx), nested, a, wait)
}

// SetPhase records the step the job is in.
func (a *Async) SetPhase(phase string) {
	a.mu.Lock()
	a.phase = phase
	a.mu.Unlock()
}

// Update changes the job's progress; bounded says whether its end is
// known (a total is set).
func (a *Async) Update(bounded bool, fn func(p *Progress)) {
	a.mu.Lock()
	fn(&a.progress)
	a.bounded = bounded
	a.mu.Unlock()
}

// stats is the job as it stands.
func (a *Async) stats(now time.Time) Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := Stats{Operation: a.op, Status: StatusUnbounded, Phase: a.phase, Started: a.started,
		Elapsed: now.Sub(a.started), Progress: a.progress}
	if a.bounded {
		st.Status = StatusBounded
	}
	return st
}

// Finished is the job's statistics as of now, marked completed: for the
// announcement of work done while the job still has its last steps to
// take (a save's image is written before its guest is destroyed).
func (a *Async) Finished() Stats {
	st := a.stats(time.Now())
	st.Status = StatusCompleted
	return st
}

// End ends the job; err is why it failed (nil: it completed). A job whose
// context was aborted counts as cancelled.
func (a *Async) End(err error) {
	st := a.stats(time.Now())
	switch {
	case err == nil:
		st.Status = StatusCompleted
	case errors.Is(context.Cause(a.ctx), ErrAborted):
		st.Status, st.Err = StatusCancelled, err
	default:
		st.Status, st.Err = StatusFailed, err
	}
	a.cancel(nil)
	o := a.obj
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.async == a {
		o.async, o.completed = nil, &st
		o.wakeLocked()
	}
}

// Current returns the running async job's stats.
func (o *Object) Current() (Stats, bool) {
	o.mu.Lock()
	a := o.async
	o.mu.Unlock()
	if a == nil {
		return Stats{}, false
	}
	return a.stats(time.Now()), true
}

// Completed returns how the last async job ended.
func (o *Object) Completed() (Stats, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.completed == nil {
		return Stats{}, false
	}
	return *o.completed, true
}

// AbortAsync cancels the running async job's context with ErrAborted; the
// job ends when its owner notices. The caller holds an Abort job.
func (o *Object) AbortAsync() error {
	o.mu.Lock()
	a := o.async
	o.mu.Unlock()
	if a == nil {
		return ErrNoJob
	}
	a.cancel(ErrAborted)
	return nil
}

// ForgetCompleted drops the last async job's outcome, as a report of it
// without VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED does.
func (o *Object) ForgetCompleted() {
	o.mu.Lock()
	o.completed = nil
	o.mu.Unlock()
}
