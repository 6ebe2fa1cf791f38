package sim

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"

	"virtxend/internal/backend"
)

// The simulated display: VGA's text mode, 720x400, as a Xen HVM guest's
// device model shows it while the guest boots.
const (
	screenWidth  = 720
	screenHeight = 400
)

// Screenshot implements backend.Screenshotter for a guest with a device
// model's display (an HVM guest, or a PV one with a vfb): a PNG of its
// screen, a line of light text per boot line on black. A guest without
// one is refused as libxl's QMP socket refuses: no device model answers.
func (h *Host) Screenshot(ctx context.Context, id backend.DomID, path string) (string, error) {
	if id == backend.Dom0 {
		return "", fmt.Errorf("%w: operation not valid on Domain-0", backend.ErrInvalid)
	}
	if err := h.slow(ctx, id); err != nil {
		return "", err
	}
	var display bool
	err := h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err == nil && g.Config != nil {
			display = g.Config.CInfo.Type == "hvm" || len(g.Config.VFBs) > 0
		}
		return false, err
	})
	if err != nil {
		return "", err
	}
	if !display {
		return "", fmt.Errorf("%w: domain %d has no device model answering", backend.ErrFailed, id)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return "", fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	defer f.Close()
	if err := png.Encode(f, bootScreen()); err != nil {
		return "", fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	return "image/png", f.Close()
}

// bootScreen is the picture of a text screen: three lines of light grey
// "text" (16-pixel rows, as VGA's 9x16 font) on black.
func bootScreen() image.Image {
	img := image.NewGray(image.Rect(0, 0, screenWidth, screenHeight))
	for row, width := range []int{60, 46, 24} {
		for y := row*16 + 3; y < row*16+13; y++ {
			for x := 0; x < width*9; x++ {
				if x%9 < 7 && (x/9+y)%3 != 0 {
					img.SetGray(x, y, color.Gray{Y: 0xaa})
				}
			}
		}
	}
	return img
}
