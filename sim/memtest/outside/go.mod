module example.com/outside

go 1.26.0

require github.com/netyard/netyard v0.0.0

require (
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/miekg/dns v1.1.73 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/netyard/netyard => ../../..
