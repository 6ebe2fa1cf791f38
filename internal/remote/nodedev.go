package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

// The node device procedures the hypervisor driver serves: detaching a
// PCI device from the host for guests, returning it, resetting it. The
// device is named as the node device driver names it; everything else of
// node devices is that driver's, forwarded (secondary.go).
func (p *program) nodeDevProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procNodeDeviceDettach, p.nodeDeviceDettach),
		rpc.Handle(procNodeDeviceDetachFlags, p.nodeDeviceDetachFlags),
		rpc.Handle(procNodeDeviceReAttach, p.nodeDeviceReAttach),
		rpc.Handle(procNodeDeviceReset, p.nodeDeviceReset),
	}
}

func (p *program) nodeDeviceDettach(ctx context.Context, _ *rpc.Client, a *libvirt.NodeDeviceDettachArgs) (*rpc.Void, error) {
	return nil, p.drv.NodeDeviceDetach(ctx, a.Name, "", 0)
}

func (p *program) nodeDeviceDetachFlags(ctx context.Context, _ *rpc.Client, a *libvirt.NodeDeviceDetachFlagsArgs) (*rpc.Void, error) {
	drv := ""
	if len(a.DriverName) > 0 {
		drv = a.DriverName[0]
	}
	return nil, p.drv.NodeDeviceDetach(ctx, a.Name, drv, a.Flags)
}

func (p *program) nodeDeviceReAttach(ctx context.Context, _ *rpc.Client, a *libvirt.NodeDeviceReAttachArgs) (*rpc.Void, error) {
	return nil, p.drv.NodeDeviceReAttach(ctx, a.Name)
}

func (p *program) nodeDeviceReset(ctx context.Context, _ *rpc.Client, a *libvirt.NodeDeviceResetArgs) (*rpc.Void, error) {
	return nil, p.drv.NodeDeviceReset(ctx, a.Name)
}
