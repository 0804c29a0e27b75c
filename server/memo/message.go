package memo

import (
	"strconv"
	"strings"
)

// Channel is the pub/sub channel (server/cache) on which replicas send each other the invalidations their
// commits called for.
const Channel = "memo"

// Encode writes invalidations as one pub/sub message from origin (the sending process, so it can skip its own):
// "origin tenant:kinds tenant:kinds …", kinds in hexadecimal, "*" for every tenant.
func Encode(origin string, invs []Invalidation) string {
	var b strings.Builder
	b.WriteString(origin)
	for _, inv := range invs {
		b.WriteByte(' ')
		if inv.Tenant == "" {
			b.WriteByte('*')
		} else {
			b.WriteString(inv.Tenant)
		}
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(uint64(inv.Kinds), 16))
	}
	return b.String()
}

// Decode reads what Encode wrote; ok is false for a message that is not one (then nothing may be trusted from
// it, and the receiver should drop everything).
func Decode(msg string) (origin string, invs []Invalidation, ok bool) {
	fields := strings.Fields(msg)
	if len(fields) == 0 {
		return "", nil, false
	}
	for _, f := range fields[1:] {
		i := strings.LastIndexByte(f, ':')
		if i <= 0 {
			return "", nil, false
		}
		ks, err := strconv.ParseUint(f[i+1:], 16, 32)
		if err != nil {
			return "", nil, false
		}
		tenant := f[:i]
		if tenant == "*" {
			tenant = ""
		}
		invs = append(invs, Invalidation{Tenant: tenant, Kinds: KindSet(ks)})
	}
	return fields[0], invs, true
}
