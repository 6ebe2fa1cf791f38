// Package job is a domain's job object, libvirt's virDomainJobObj
// (src/conf/virdomainjob.c): what serialises the operations on one domain.
//
// A synchronous job (Begin … End) is held by one call at a time. An
// asynchronous job (BeginAsync … Async.End: save, dump, migration,
// snapshot) does not hold that slot: it runs for as long as it takes,
// reports progress that other calls read while it runs, outlives the call
// and the connection that started it (its context keeps the caller's
// values but not its cancellation), and a later call can abort it. While
// it runs only the synchronous jobs it allows may start (by default
// queries, destroy and abort, as libvirt's VIR_JOB_DEFAULT_MASK); the
// async job's own steps take the slot as nested jobs (Async.Begin). A
// call that cannot start waits for the job in its way up to a limit,
// then fails with a TimeoutError naming the holder.
package job

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"virtxend/internal/caller"
)

// Kind is a synchronous job's kind (libvirt's virDomainJob).
type Kind int

// Synchronous job kinds, in libvirt's order.
const (
	None        Kind = iota
	Query            // reads the domain without changing it
	Destroy          // kills the guest
	Suspend          // pauses the guest
	Modify           // may change the domain's state
	Abort            // aborts the async job
	MigrationOp      // changes a running outgoing migration
	nested           // a step of the async job, by its owner
)

var kindNames = [...]string{"none", "query", "destroy", "suspend", "modify", "abort", "migration operation", "async nested"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// DefaultAllowed is what may run beside an async job unless it says
// otherwise: libvirt's VIR_JOB_DEFAULT_MASK.
var DefaultAllowed = []Kind{Query, Destroy, Abort}

// Operation is what an async job does (libvirt's virDomainJobOperation,
// whose numbers DOMAIN_GET_JOB_STATS reports).
type Operation int

// Operations, numbered as virDomainJobOperation.
const (
	OpUnknown        Operation = 0
	OpStart          Operation = 1
	OpSave           Operation = 2
	OpRestore        Operation = 3
	OpMigrationIn    Operation = 4
	OpMigrationOut   Operation = 5
	OpSnapshot       Operation = 6
	OpSnapshotRevert Operation = 7
	OpDump           Operation = 8
	OpBackup         Operation = 9
	OpSnapshotDelete Operation = 10
)

// Status is how an async job stands (libvirt's virDomainJobType).
type Status int

// Statuses, numbered as virDomainJobType.
const (
	StatusNone      Status = 0
	StatusBounded   Status = 1 // running, with a known end
	StatusUnbounded Status = 2 // running, end unknown
	StatusCompleted Status = 3
	StatusFailed    Status = 4
	StatusCancelled Status = 5
)

// Owner is who started a job: the call's client and libvirt's name for the
// call (caller.Call.Dispatcher), "" for the daemon's own work.
type Owner struct {
	Client uint64
	API    string
}

func ownerOf(ctx context.Context) Owner {
	c := caller.From(ctx)
	return Owner{Client: c.Client, API: c.Dispatcher()}
}

// Errors of the job object. A TimeoutError says who holds the job.
var (
	// ErrNoJob: Abort with no async job running.
	ErrNoJob = errors.New("no job is active on the domain")
	// ErrAborted is the cause an aborted async job's context carries.
	ErrAborted = errors.New("job aborted")
)

// TimeoutError is a Begin that waited its limit: Blocker is the API of the
// job in the way ("" when the daemon itself holds it).
type TimeoutError struct {
	Blocker string
}

// Error is libvirt's text for it (virDomainObjBeginJobInternal).
func (e *TimeoutError) Error() string {
	if e.Blocker == "" {
		return "cannot acquire state change lock"
	}
	return fmt.Sprintf("cannot acquire state change lock (held by monitor=%s)", e.Blocker)
}

// Object is one domain's jobs. The zero value is ready to use.
type Object struct {
	mu sync.Mutex
	// changed is closed (and replaced) whenever a job ends, so that every
	// waiter looks again.
	changed chan struct{}

	active  Kind
	owner   Owner
	started time.Time
	op      Operation // what the synchronous job does, when its holder says

	async     *Async
	completed *Stats // the last async job's outcome
}

// Begin starts a synchronous job of kind for the call in ctx. It waits
// while another synchronous job runs, or an async job that does not allow
// kind, for at most wait; ctx ending stops the wait too.
func (o *Object) Begin(ctx context.Context, kind Kind, wait time.Duration) error {
	if kind <= None || kind >= nested {
		panic(fmt.Sprintf("job: Begin of %v", kind))
	}
	return o.begin(ctx, kind, nil, wait)
}

// TryBegin starts a synchronous job of kind only if it can start at once
// (libvirt's nowait): background work that must not queue behind a call.
func (o *Object) TryBegin(ctx context.Context, kind Kind) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.mayStartLocked(kind, nil) {
		return false
	}
	o.active, o.owner, o.started = kind, ownerOf(ctx), time.Now()
	return true
}

// End ends the synchronous job.
func (o *Object) End() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active, o.owner, o.op = None, Owner{}, OpUnknown
	o.wakeLocked()
}

// begin waits until kind may start (nested in async, when that is set).
func (o *Object) begin(ctx context.Context, kind Kind, async *Async, wait time.Duration) error {
	var timer *time.Timer // made on the first wait: most jobs start at once
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.mayStartLocked(kind, async) {
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		ch := o.changedLocked()
		o.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = errWaited
		}
		o.mu.Lock()
		switch {
		case err == errWaited && !o.mayStartLocked(kind, async):
			return &TimeoutError{Blocker: o.blockerLocked(kind, async)}
		case err != nil && err != errWaited:
			return err
		}
	}
	o.active, o.owner, o.started = kind, ownerOf(ctx), time.Now()
	if kind == nested {
		o.owner = async.owner
	}
	return nil
}

// errWaited marks a wait that ran out; the job may have been freed meanwhile.
var errWaited = errors.New("waited")

func (o *Object) mayStartLocked(kind Kind, async *Async) bool {
	if o.active != None {
		return false
	}
	if kind == nested {
		return o.async == async
	}
	return o.async == nil || o.async.allows(kind)
}

// blockerLocked is the job in kind's way, as libvirt names it: the
// synchronous job's owner when the async job (if any) would allow kind,
// else the async job's owner.
func (o *Object) blockerLocked(kind Kind, async *Async) string {
	if kind == nested || o.async == nil || o.async.allows(kind) {
		return o.owner.API
	}
	return o.async.owner.API
}

func (o *Object) changedLocked() chan struct{} {
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	return o.changed
}

func (o *Object) wakeLocked() {
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}
