package rpc

import "golang.org/x/time/rate"

// The server does some work for a client no faster than a well-behaved
// client needs it done, so that a client flooding it with that work
// cannot take the other clients' share of the CPU (docs/testing.md,
// Hostile clients). Past each pace the goroutine that would do the work
// waits, reading nothing more meanwhile: the flood waits in the kernel's
// queues, which bound it, not in the daemon.
//
//   - A listener accepts acceptRate connections a second after a burst of
//     acceptBurst (ServeListener); the others wait in its backlog, as
//     libvirt's event loop accepts one per turn. A storm of connects had
//     the daemon accept 16,000 a second, and the lookups of clients
//     already connected waited 16 times longer at the 99th percentile.
//   - A connection's keepalive PINGs are answered pingRate a second after
//     pingBurst (keepaliveMessage): a client keeping its connection alive
//     sends one after each keepalive_interval (5 s) of silence.
//   - Calls the RPC layer refuses (an unknown program, procedure or
//     status, no authentication yet, undecodable arguments) are answered
//     refusalRate a second after refusalBurst, over the whole server
//     (Client.refuse), and so are those the program's own check refuses
//     (a call before CONNECT_OPEN: Client.payRefusals). Clients that speak
//     the protocol meet them rarely, and a flood of them across a thousand
//     connections a second is bounded only server-wide.
//   - Packets longer than bulkPayload are received bulkRate bytes a second
//     after a burst of bulkBurst, over the whole server (readPayload): only
//     a definition of megabytes needs one (a stream's data comes in packets
//     of 256 KiB at most), while a flood of 32 MiB packets had the daemon
//     copy 3.6 GB a second, and the lookups of other clients waited 9 to 15
//     times longer at the 99th percentile.
const (
	acceptRate  = 1000
	acceptBurst = 1000

	pingRate  = 100
	pingBurst = 100

	refusalRate  = 100
	refusalBurst = 100

	bulkPayload = 1 << 20
	bulkRate    = 64 << 20
	bulkBurst   = MessageMax
)

func newAcceptLimiter() *rate.Limiter  { return rate.NewLimiter(acceptRate, acceptBurst) }
func newPingLimiter() *rate.Limiter    { return rate.NewLimiter(pingRate, pingBurst) }
func newRefusalLimiter() *rate.Limiter { return rate.NewLimiter(refusalRate, refusalBurst) }
func newBulkLimiter() *rate.Limiter    { return rate.NewLimiter(bulkRate, bulkBurst) }
