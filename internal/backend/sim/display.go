package sim

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"time"

	"virtxend/internal/backend"
)

// The simulated display: VGA's text mode, 720x400, as a Xen HVM guest's
// device model shows it while the guest boots.
const (
	screenWidth  = 720
	screenHeight = 400
)

// Screenshot implements backend.Screenshotter for a guest with a device
// model: a PNG of its screen, a line of light text per boot line on black.
func (h *Host) Screenshot(ctx context.Context, id backend.DomID, path string) (string, error) {
	if id == backend.Dom0 {
		return "", fmt.Errorf("%w: operation not valid on Domain-0", backend.ErrInvalid)
	}
	if err := h.slow(ctx, id); err != nil {
		return "", err
	}
	err := h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err == nil {
			err = deviceModel(g)
		}
		return false, err
	})
	if err != nil {
		return "", err
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

// deviceModel refuses a guest without a device model (an HVM guest, or a
// PV one with a vfb or vkb has one), as libxl's QMP socket refuses: none
// answers there.
func deviceModel(g *guest) error {
	if c := g.Config; c != nil && (c.CInfo.Type == "hvm" || len(c.VFBs) > 0 || len(c.VKBs) > 0) {
		return nil
	}
	return fmt.Errorf("%w: domain %d has no device model answering", backend.ErrFailed, g.DomID)
}

// SendKeys implements backend.KeySender for a guest with a device model.
// The simulated guest acts on one combination, as Linux does: Ctrl, Alt
// and Delete pressed together reboot it (ctrl_alt_del), once it runs.
func (h *Host) SendKeys(ctx context.Context, id backend.DomID, keys []uint32, holdMs uint32) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if err := deviceModel(g); err != nil {
			return err
		}
		if ctrlAltDel(keys) && !g.Shutdown {
			g.Request = &request{Reason: backend.ReasonReboot, Due: now}
			g.advance(now)
		}
		return nil
	})
}

// ctrlAltDel reports whether keys (QEMU key numbers) hold a Ctrl, an Alt
// and a Delete, of either side or the keypad.
func ctrlAltDel(keys []uint32) bool {
	var ctrl, alt, del bool
	for _, k := range keys {
		switch k {
		case 0x1d, 0x9d:
			ctrl = true
		case 0x38, 0xb8:
			alt = true
		case 0x53, 0xd3:
			del = true
		}
	}
	return ctrl && alt && del
}
