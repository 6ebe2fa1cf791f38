package job

import "time"

// Running is the job in progress on the domain, as DOMAIN_GET_JOB_INFO
// reports it: the asynchronous job's stats while one runs, else the
// synchronous job's (operation unknown, end unknown, elapsed since it
// began), as libvirt's libxl driver reports its jobs, which are all
// synchronous. ok is false when no job runs.
func (o *Object) Running() (st Stats, ok bool) {
	if st, ok := o.Current(); ok {
		return st, true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.active == None {
		return Stats{}, false
	}
	now := time.Now()
	elapsed := now.Sub(o.started)
	if elapsed < 0 {
		elapsed = 0
	}
	return Stats{Operation: o.op, Status: StatusUnbounded, Started: o.started, Elapsed: elapsed}, true
}

// SetOperation says what the synchronous job its caller holds does, for
// Running to report (an incoming migration holds one from Prepare to
// Finish); End forgets it.
func (o *Object) SetOperation(op Operation) {
	o.mu.Lock()
	o.op = op
	o.mu.Unlock()
}

// CompleteSync records the synchronous job its caller holds, which did
// what SetOperation said, as the completed job Completed reports: an
// incoming migration's, once the guest runs here, as libvirt's QEMU
// driver keeps its destination's (qemuMigrationDstFinish).
func (o *Object) CompleteSync() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.active == None {
		return
	}
	elapsed := max(time.Since(o.started), 0)
	o.completed = &Stats{Operation: o.op, Status: StatusCompleted, Started: o.started, Elapsed: elapsed}
}
