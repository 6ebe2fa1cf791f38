//go:build libxl

package libxl

import (
	"context"

	"virtxend/internal/backend"
)

// Screenshot implements backend.Screenshotter: the screendump of the
// guest's device model (an HVM guest's, or a PV guest's that serves its
// vfb), over libxl's QMP socket to it.
func (b *Backend) Screenshot(ctx context.Context, id backend.DomID, path string) (string, error) {
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return "", b.guestErr(id, err)
	}
	defer closer.Close()
	return s.screendump(path)
}
