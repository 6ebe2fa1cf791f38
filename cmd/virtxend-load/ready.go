package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// readySettings are -ready's: start a daemon and time it to READY=1.
type readySettings struct {
	command       []string
	log           string        // where the daemon's output goes
	expectRunning int           // running guests the daemon must have recovered
	timeout       time.Duration // for READY=1
}

// runReady starts the daemon command with NOTIFY_SOCKET set to a socket of
// its own, times it from exec to READY=1 (sd_notify), then checks over
// the daemon's socket that it has every running guest it should have
// recovered, and leaves it running. The figure includes what the daemon
// does before it is ready: loading every definition, reconnecting to the
// running guests, opening its sockets.
func runReady(s settings, rs readySettings) (result, error) {
	r := result{Workload: "start-ready", Conns: 1, Running: rs.expectRunning}
	dir, err := os.MkdirTemp("", "virtxend-ready-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	addr := &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"}
	notify, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		return r, err
	}
	defer notify.Close()
	logFile, err := os.OpenFile(rs.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return r, err
	}
	defer logFile.Close()
	cmd := exec.Command(rs.command[0], rs.command[1:]...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+addr.Name)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitReady(notify, exited, start.Add(rs.timeout)); err != nil {
		cmd.Process.Kill()
		return r, err
	}
	r.ReadyMs = float64(time.Since(start).Microseconds()) / 1000
	r.DaemonRSSKB, r.DaemonHWMKB = daemonMemory(cmd.Process.Pid)
	r.Recovered, r.Domains, err = countRunning(s)
	if err != nil {
		return r, err
	}
	if rs.expectRunning >= 0 && r.Recovered != rs.expectRunning {
		r.Errors = 1
		r.FirstError = fmt.Sprintf("%d guests running after the start, %d expected", r.Recovered, rs.expectRunning)
	}
	return r, nil
}

// waitReady reads sd_notify datagrams until one says READY=1.
func waitReady(notify *net.UnixConn, exited <-chan error, deadline time.Time) error {
	buf := make([]byte, 4096)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the daemon exited before READY=1: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("no READY=1 before the timeout")
		}
		notify.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := notify.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(buf[:n], []byte("\n")) {
			if string(line) == "READY=1" {
				return nil
			}
		}
	}
}

// countRunning connects and counts the running guests (active domains
// other than Domain-0) and all domains.
func countRunning(s settings) (running, all int, err error) {
	l, err := connect(s)
	if err != nil {
		return 0, 0, err
	}
	defer l.Disconnect()
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range doms {
		if d.ID > 0 {
			running++
		}
	}
	return running, len(doms), nil
}

// startRunning makes sure the -domains domains populate defines exist and
// starts the first n of them (for -ready's check after a restart).
func startRunning(s settings, n int) error {
	l, err := connect(s)
	if err != nil {
		return err
	}
	defer l.Disconnect()
	if err := populate(l, s); err != nil {
		return err
	}
	for i := range n {
		d, err := l.DomainLookupByName(popName(i))
		if err != nil {
			return err
		}
		if d.ID > 0 {
			continue
		}
		if err := l.DomainCreate(d); err != nil {
			return fmt.Errorf("start %s: %w", popName(i), err)
		}
	}
	return nil
}
