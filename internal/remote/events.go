package remote

import "sync"

// eventRegistrations are one client's event callbacks.
type eventRegistrations struct {
	mu sync.Mutex
}

func newEventRegistrations() *eventRegistrations { return &eventRegistrations{} }
