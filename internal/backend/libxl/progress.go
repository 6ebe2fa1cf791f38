package libxl

import (
	"os"
	"time"

	"virtxend/internal/backend"
)

// progressEvery is how often a save's or dump's progress is looked at.
const progressEvery = 200 * time.Millisecond

func watchPathGrowth(path string, total uint64, progress backend.Progress) (stop func()) {
	return poll(func() (int64, error) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}, total, progress)
}

// poll reports size against total (raised if size outgrows it) every
// progressEvery, and once more when stopped, so that the last report is
// the final size. Without progress it does nothing.
func poll(size func() (int64, error), total uint64, progress backend.Progress) (stop func()) {
	if progress == nil {
		return func() {}
	}
	report := func() {
		if n, err := size(); err == nil && n > 0 {
			progress(uint64(n), max(total, uint64(n)))
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				report()
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() { close(quit); <-done }
}
