module github.com/netyard/netyard

go 1.26.0

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.49.0
)

require golang.org/x/net v0.62.0

require github.com/miekg/dns v1.1.73
