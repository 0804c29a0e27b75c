package cache

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLogEvery is how often go-redis may log the same kind of line. While Redis is down, every reconnection
// attempt of every subscription (ten a second each) and every failed call would otherwise write a line;
// Authio reports the outage itself (server.cacheHealth), once.
const redisLogEvery = time.Minute

var (
	quietOnce sync.Once
	// redisLog is where go-redis's lines go (LogRedisTo); nil drops them.
	redisLog atomic.Pointer[slog.Logger]
)

// LogRedisTo sends go-redis's own log lines to logger, at debug level: Authio reports a Redis outage itself, once
// (server.cacheHealth), in the configured log format. go-redis has one logger per process, so the last call wins.
func LogRedisTo(logger *slog.Logger) { redisLog.Store(logger) }

// quietRedisLogs replaces go-redis's process-wide logger, which writes every line to stderr in a format of its
// own, with one that writes each kind of line (its format string) at most once per redisLogEvery, through the
// logger given to LogRedisTo. go-redis has one logger per process, so this is process-wide too.
func quietRedisLogs() {
	quietOnce.Do(func() {
		redis.SetLogger(&rateLimitedLogger{last: map[string]time.Time{}})
	})
}

type rateLimitedLogger struct {
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
	logger := redisLog.Load()
	if logger == nil {
		return
	}
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, "redis: ") {
		msg = "redis: " + msg
	}
	logger.Debug(msg, "component", "go-redis")
}
