package keys

import "time"

// SetClock sets the clock m stamps new keys with (tests count key generations through it).
func SetClock(m *KeyManager, now func() time.Time) { m.now = now }
