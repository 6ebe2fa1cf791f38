package daemon

import (
	"context"
	"io"
	"net"
	"sync"
)

// holdServer accepts clients and holds their connections open, discarding
// what they send, until the RPC server takes its place. It exists so that
// the process shell (sockets, -t, shutdown) can be exercised on its own.
type holdServer struct {
	onClient func(delta int)
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func newHoldServer(onClient func(int)) *holdServer {
	return &holdServer{onClient: onClient, conns: map[net.Conn]struct{}{}}
}

func (s *holdServer) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		s.track(c, true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			io.Copy(io.Discard, c)
			c.Close()
			s.track(c, false)
		}()
	}
}

func (s *holdServer) track(c net.Conn, add bool) {
	s.mu.Lock()
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	s.mu.Unlock()
	if add {
		s.onClient(1)
	} else {
		s.onClient(-1)
	}
}

func (s *holdServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
