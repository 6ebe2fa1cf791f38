module virtxend

go 1.26.0

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/digitalocean/go-libvirt v0.0.0-20261013170128-efbbdf578ac8
	golang.org/x/sys v0.50.0
	golang.org/x/time v0.16.0
	libvirt.org/go/libvirtxml v1.12008.0
)

require golang.org/x/crypto v0.48.0 // indirect
