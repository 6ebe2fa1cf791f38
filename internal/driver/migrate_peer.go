package driver

import (
	"context"
	"io"

	libvirt "github.com/digitalocean/go-libvirt"
)

// MigrationPeer is the destination's daemon as the source of a
// peer-to-peer migration reaches it: a libvirt client connection opened
// by Options.DialPeer (internal/peer). Its methods are the calls
// libvirt's libxlDoMigrateSrcP2P makes on its connection to the
// destination; their errors are the destination's, as it sent them.
type MigrationPeer interface {
	// Prepare is DOMAIN_MIGRATE_PREPARE3_PARAMS: the destination makes
	// ready to receive the guest, and returns the URI to send it to.
	Prepare(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (string, error)
	// PrepareTunnel is DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS: as Prepare,
	// the data then going on the stream it opens.
	PrepareTunnel(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (Tunnel, error)
	// Finish is DOMAIN_MIGRATE_FINISH3_PARAMS: the destination resumes the
	// guest (nil error) or, cancelled, drops it.
	Finish(ctx context.Context, params []libvirt.TypedParam, flags uint32, cancelled bool) error
	// Close ends the connection.
	Close() error
}

// Tunnel is the data stream of a tunnelled migration.
type Tunnel interface {
	io.Writer
	// Finish says all data was sent and waits for the destination to
	// confirm it, or to say why it failed.
	Finish() error
	// Abort gives the stream up.
	Abort()
}
