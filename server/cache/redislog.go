package cache

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLogEvery is how often go-redis may log the same kind of line. While Redis is down, every reconnection
// attempt of every subscription (ten a second each) and every failed call would otherwise write a line;
// Authio reports the outage itself (server.cacheHealth), once.
const redisLogEvery = time.Minute

var quietOnce sync.Once

// quietRedisLogs replaces go-redis's process-wide logger, which writes every line to stderr, with one that
// writes each kind of line (its format string) at most once per redisLogEvery. go-redis has one logger per
// process, so this is process-wide too; it only ever drops repeats.
func quietRedisLogs() {
	quietOnce.Do(func() {
		redis.SetLogger(&rateLimitedLogger{out: log.New(os.Stderr, "", log.LstdFlags), last: map[string]time.Time{}})
	})
}

type rateLimitedLogger struct {
	out  *log.Logger
	mu   sync.Mutex
	last map[string]time.Time // format -> when it was last written
}

func (l *rateLimitedLogger) Printf(_ context.Context, format string, v ...any) {
	now := time.Now()
	l.mu.Lock()
	if t, ok := l.last[format]; ok && now.Sub(t) < redisLogEvery {
		l.mu.Unlock()
		return
	}
	if len(l.last) > 1000 { // formats are constants in go-redis; this only bounds a surprise
		l.last = map[string]time.Time{}
	}
	l.last[format] = now
	l.mu.Unlock()
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, "redis: ") {
		msg = "redis: " + msg
	}
	_ = l.out.Output(2, msg)
}
