package job

import (
	"context"
	"errors"
	"testing"
	"time"

	"virtxend/internal/caller"
)

// long is a wait no test should reach.
const long = time.Minute

func callCtx(client uint64, proc string) context.Context {
	return caller.With(context.Background(), caller.Call{Client: client, Procedure: proc})
}

// started reports whether Begin of kind returns within a moment, ending
// that job again if so.
func started(o *Object, kind Kind) bool {
	err := o.Begin(callCtx(9, "DOMAIN_GET_INFO"), kind, 50*time.Millisecond)
	if err == nil {
		o.End()
	}
	return err == nil
}

func TestSyncJobsExclude(t *testing.T) {
	var o Object
	if err := o.Begin(callCtx(1, "DOMAIN_SUSPEND"), Modify, long); err != nil {
		t.Fatal(err)
	}
	err := o.Begin(callCtx(2, "DOMAIN_RESUME"), Modify, 10*time.Millisecond)
	var te *TimeoutError
	if !errors.As(err, &te) || err.Error() != "cannot acquire state change lock (held by monitor=remoteDispatchDomainSuspend)" {
		t.Fatalf("second modify: %v", err)
	}
	done := make(chan error)
	go func() { done <- o.Begin(callCtx(2, "DOMAIN_RESUME"), Modify, long) }()
	time.Sleep(10 * time.Millisecond)
	o.End()
	if err := <-done; err != nil {
		t.Fatalf("waiter after End: %v", err)
	}
	o.End()
}

func TestDaemonHolderIsUnnamed(t *testing.T) {
	var o Object
	o.Begin(context.Background(), Modify, long)
	defer o.End()
	err := o.Begin(callCtx(2, "DOMAIN_RESUME"), Query, time.Millisecond)
	if err == nil || err.Error() != "cannot acquire state change lock" {
		t.Fatalf("%v", err)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	var o Object
	o.Begin(context.Background(), Modify, long)
	defer o.End()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Begin(ctx, Modify, long); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

// TestAsyncJob: while an async job runs, its progress is readable, queries,
// destroy and abort start beside it, a modify call waits and times out
// naming the async job's owner, the starting call's connection going away
// does not cancel it, and an abort from another goroutine does.
func TestAsyncJob(t *testing.T) {
	var o Object
	owner, ownerGone := context.WithCancel(callCtx(1, "DOMAIN_SAVE"))
	a, err := o.BeginAsync(owner, OpSave, long)
	if err != nil {
		t.Fatal(err)
	}
	a.SetPhase("writing")
	a.Update(true, func(p *Progress) { p.DataTotal, p.DataProcessed, p.DataRemaining = 100, 40, 60 })
	st, ok := o.Current()
	if !ok || st.Operation != OpSave || st.Status != StatusBounded || st.Phase != "writing" ||
		st.Progress.DataProcessed != 40 || st.Progress.DataRemaining != 60 {
		t.Fatalf("current: %+v %v", st, ok)
	}
	for _, k := range DefaultAllowed {
		if !started(&o, k) {
			t.Errorf("%v did not start beside the async job", k)
		}
	}
	err = o.Begin(callCtx(2, "DOMAIN_SET_MEMORY"), Modify, 10*time.Millisecond)
	if err == nil || err.Error() != "cannot acquire state change lock (held by monitor=remoteDispatchDomainSave)" {
		t.Fatalf("modify beside the async job: %v", err)
	}

	ownerGone()
	select {
	case <-a.Context().Done():
		t.Fatal("the owner's connection closing cancelled the job")
	case <-time.After(10 * time.Millisecond):
	}
	if caller.From(a.Context()).Client != 1 {
		t.Error("the job's context lost the caller's values")
	}

	aborted := make(chan error)
	go func() { aborted <- o.AbortAsync() }()
	if err := <-aborted; err != nil {
		t.Fatal(err)
	}
	<-a.Context().Done()
	if !errors.Is(context.Cause(a.Context()), ErrAborted) {
		t.Fatalf("cause %v", context.Cause(a.Context()))
	}
	a.End(a.Context().Err())
	if _, ok := o.Current(); ok {
		t.Error("a job is still current")
	}
	if st, ok := o.Completed(); !ok || st.Status != StatusCancelled || st.Operation != OpSave {
		t.Fatalf("completed: %+v %v", st, ok)
	}
	if err := o.AbortAsync(); !errors.Is(err, ErrNoJob) {
		t.Fatalf("abort without a job: %v", err)
	}
	if !started(&o, Modify) {
		t.Fatal("modify did not start once the async job ended")
	}
}

// TestModifyWaitsForAsyncEnd: a waiting modify call starts once the async
// job ends.
func TestModifyWaitsForAsyncEnd(t *testing.T) {
	var o Object
	a, _ := o.BeginAsync(callCtx(1, "DOMAIN_SAVE"), OpSave, long)
	done := make(chan error)
	go func() { done <- o.Begin(callCtx(2, "DOMAIN_RESUME"), Modify, long) }()
	time.Sleep(10 * time.Millisecond)
	a.End(nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o.End()
	if st, _ := o.Completed(); st.Status != StatusCompleted {
		t.Fatalf("%+v", st)
	}
}

// TestNestedJob: the async job's own step waits for a query in progress,
// and holds the slot against the next query meanwhile.
func TestNestedJob(t *testing.T) {
	var o Object
	a, _ := o.BeginAsync(callCtx(1, "DOMAIN_SAVE"), OpSave, long)
	if err := o.Begin(callCtx(2, "DOMAIN_GET_INFO"), Query, long); err != nil {
		t.Fatal(err)
	}
	step := make(chan error)
	go func() { step <- a.Begin(long) }()
	select {
	case <-step:
		t.Fatal("the step started during the query")
	case <-time.After(10 * time.Millisecond):
	}
	o.End()
	if err := <-step; err != nil {
		t.Fatal(err)
	}
	if started(&o, Query) {
		t.Fatal("a query started during the step")
	}
	o.End()
	a.End(nil)
}

// TestSecondAsyncWaits: one async job at a time.
func TestSecondAsyncWaits(t *testing.T) {
	var o Object
	a, _ := o.BeginAsync(callCtx(1, "DOMAIN_SAVE"), OpSave, long)
	_, err := o.BeginAsync(callCtx(2, "DOMAIN_CORE_DUMP"), OpDump, 10*time.Millisecond)
	if err == nil || err.Error() != "cannot acquire state change lock (held by monitor=remoteDispatchDomainSave)" {
		t.Fatalf("%v", err)
	}
	a.End(errors.New("disk full"))
	if st, _ := o.Completed(); st.Status != StatusFailed || st.Err == nil {
		t.Fatalf("%+v", st)
	}
}

func TestTryBegin(t *testing.T) {
	var o Object
	if !o.TryBegin(context.Background(), Query) {
		t.Fatal("a free job did not start")
	}
	if o.TryBegin(context.Background(), Query) {
		t.Fatal("a busy job started")
	}
	o.End()
	a, _ := o.BeginAsync(callCtx(1, "DOMAIN_SAVE"), OpSave, long)
	if !o.TryBegin(context.Background(), Query) {
		t.Fatal("a query did not start beside the async job")
	}
	o.End()
	if o.TryBegin(context.Background(), Modify) {
		t.Fatal("a modify job started beside the async job")
	}
	a.End(nil)
}

// TestRunning: no job, a synchronous job with its time, an async job with
// its operation and progress, reported as DOMAIN_GET_JOB_INFO wants them.
func TestRunning(t *testing.T) {
	var o Object
	ctx := context.Background()
	if _, ok := o.Running(); ok {
		t.Fatal("a job runs on a fresh object")
	}
	if err := o.Begin(ctx, Query, time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	st, ok := o.Running()
	if !ok || st.Status != StatusUnbounded || st.Operation != OpUnknown || st.Elapsed < 2*time.Millisecond {
		t.Errorf("synchronous job: %+v, %v", st, ok)
	}
	o.End()
	a, err := o.BeginAsync(ctx, OpSave, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a.Update(true, func(p *Progress) { p.DataTotal, p.DataProcessed = 100, 40 })
	st, ok = o.Running()
	if !ok || st.Operation != OpSave || st.Status != StatusBounded || st.Progress.DataProcessed != 40 {
		t.Errorf("async job: %+v, %v", st, ok)
	}
	a.End(nil)
	if _, ok := o.Running(); ok {
		t.Error("a job runs after the async job ended")
	}
}

// TestCompleteSync: a synchronous job that said what it does is kept as
// the completed job once its holder says it completed; a job that did not
// complete leaves the last completed one as it was.
func TestCompleteSync(t *testing.T) {
	var o Object
	ctx := context.Background()
	o.CompleteSync() // no job: nothing
	if _, ok := o.Completed(); ok {
		t.Fatal("completed job without a job")
	}
	if err := o.Begin(ctx, Modify, time.Second); err != nil {
		t.Fatal(err)
	}
	o.SetOperation(OpMigrationIn)
	time.Sleep(2 * time.Millisecond)
	o.CompleteSync()
	o.End()
	st, ok := o.Completed()
	if !ok || st.Operation != OpMigrationIn || st.Status != StatusCompleted || st.Elapsed < 2*time.Millisecond {
		t.Errorf("completed: %+v, %v", st, ok)
	}
	if err := o.Begin(ctx, Modify, time.Second); err != nil {
		t.Fatal(err)
	}
	o.End()
	if st2, _ := o.Completed(); st2 != st {
		t.Errorf("a job that did not complete replaced the completed one: %+v", st2)
	}
}
