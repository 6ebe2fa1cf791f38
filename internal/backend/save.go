package backend

import (
	"context"
	"os"

	"virtxend/internal/libxltypes"
)

// Progress receives how far a long operation is: bytes done of an
// estimated total (the total may grow as the operation learns more).
type Progress func(done, total uint64)

// Saver is the optional feature of saving a guest's memory and device
// state to a file and creating a guest from it again (libxl_domain_suspend,
// libxl_domain_create_restore).
type Saver interface {
	// Save writes the guest's state in the backend's stream format to f,
	// from f's current offset. On success the guest is suspended, its
	// state in f: the caller destroys it. When Save fails or ctx ends
	// first (an abort), the guest is left as it was, running or paused,
	// and what f holds is of no use.
	Save(ctx context.Context, id DomID, f *os.File, progress Progress) error
	// Restore creates a guest from cfg and the state Save wrote, read from
	// f's current offset; version is the stream version the image names.
	// As Create, it leaves no guest behind when it fails and honours
	// opts (the guest stays paused when opts.Paused).
	Restore(ctx context.Context, cfg *libxltypes.DomainConfig, opts CreateOptions, f *os.File, version uint32) (DomID, error)
}

// Migrator is the optional feature a live migration's source needs beyond
// Saver: sending a guest's state while the guest runs, and giving the
// guest back its run when the state went nowhere. The destination uses
// Saver.Restore, reading the stream from a socket or pipe.
type Migrator interface {
	// SaveLive is Save with the guest running while its memory is sent
	// (libxl_domain_suspend with LIBXL_SUSPEND_LIVE): it is suspended only
	// for the last round. f may be a socket or a pipe. As Save: on success
	// the guest is left suspended; on failure or abort, as it was.
	SaveLive(ctx context.Context, id DomID, f *os.File, progress Progress) error
	// Resume continues a guest that a successful Save or SaveLive left
	// suspended, from where it stopped (libxl_domain_resume with
	// suspend_cancel): the migration that took its state failed later. A
	// guest that is not suspended so is refused with ErrInvalid.
	Resume(ctx context.Context, id DomID) error
}
