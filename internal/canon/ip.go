package canon

import "net/netip"

// ClientSource is the source a per-IP limit counts for the client address ip: the address itself for IPv4 (an
// IPv4-mapped IPv6 address counts as its IPv4 address), its /64 for IPv6 (one subscriber's network, which one
// client can fill with addresses). A string that is not an IP address is returned as it is.
func ClientSource(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
