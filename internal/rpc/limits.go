package rpc

// ClientLimits is what virt-admin's srv-clients-info shows.
type ClientLimits struct {
	MaxClients, Clients                   int
	MaxAnonymousClients, AnonymousClients int
}

// ClientLimits returns the client limits and counts.
func (s *Server) ClientLimits() ClientLimits {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return ClientLimits{
		MaxClients: s.MaxClients, Clients: len(s.clients),
		MaxAnonymousClients: s.MaxAnonymousClients, AnonymousClients: s.nUnauth,
	}
}

// SetClientLimits changes max_clients and max_anonymous_clients; a
// negative value leaves that limit unchanged. As in libvirt, max_clients 0
// accepts no one and max_anonymous_clients 0 means no limit. Lowering them
// never drops a client; the server just stops accepting until it is under
// them again.
func (s *Server) SetClientLimits(maxClients, maxAnonymous int) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if maxClients >= 0 {
		s.MaxClients = maxClients
	}
	if maxAnonymous >= 0 {
		s.MaxAnonymousClients = maxAnonymous
	}
	s.roomCond.Broadcast()
}

// ThreadPool returns the worker pool's limits and state.
func (s *Server) ThreadPool() PoolInfo {
	s.init()
	return s.pool.info()
}

// SetThreadPool changes min_workers, max_workers and prio_workers; a
// negative value leaves that one unchanged.
func (s *Server) SetThreadPool(minWorkers, maxWorkers, prioWorkers int) {
	s.init()
	cur := s.pool.info()
	if minWorkers < 0 {
		minWorkers = cur.MinWorkers
	}
	if maxWorkers < 0 {
		maxWorkers = cur.MaxWorkers
	}
	if prioWorkers < 0 {
		prioWorkers = cur.PrioWorkers
	}
	s.pool.setLimits(minWorkers, maxWorkers, prioWorkers)
}

// MaxQueued returns the recorded listen backlog (max_queued_clients).
func (s *Server) MaxQueued() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.MaxQueuedClients
}

// SetMaxClientRequests changes how many calls per client may be in flight.
func (s *Server) SetMaxClientRequests(n int) {
	s.init()
	if n <= 0 {
		return
	}
	s.maxRequests.Store(int64(n))
	for _, c := range s.Clients() {
		c.wake()
	}
}

// MaxClientRequestsLimit returns the current per-client call limit.
func (s *Server) MaxClientRequestsLimit() int {
	s.init()
	return int(s.maxRequests.Load())
}
