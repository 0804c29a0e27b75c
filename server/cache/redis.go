package cache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults sized for one replica serving about 64 concurrent requests on 2 cores, each making a few sub-millisecond
// calls. go-redis would otherwise size the pool from GOMAXPROCS (20 on 2 cores) and wait up to 4s for a
// connection. No idle connections are kept warm (min_idle_conns): while Redis is down that would keep a
// background redial loop going. Every one of these can be overridden in the URL (pool_size=, read_timeout=, ...).
const (
	defaultPoolSize    = 64
	defaultDialTimeout = 2 * time.Second
	defaultIOTimeout   = 2 * time.Second
	defaultPoolTimeout = 3 * time.Second
	defaultClientName  = "authio"

	// startTimeout bounds the ping in NewRedis and the wait for a subscription's confirmation when the caller's
	// context carries no deadline of its own.
	startTimeout = 5 * time.Second
)

// hitScript increments the counter and starts its window only on the first hit, atomically, so concurrent hits
// on several replicas neither lose increments nor extend the window. A counter found without an expiry (written
// by Set with no ttl) gets one, so it cannot throttle forever. Returns {count, milliseconds left}.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
	ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// unhitScript takes one back from a counter that exists and is above zero; its expiry (the window) stays.
var unhitScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n and n > 0 then
	redis.call('DECR', KEYS[1])
end
return 0
`)

// Redis is the Cache shared by every replica. All keys and channels are namespaced with the prefix given to
// NewRedis.
type Redis struct {
	client *redis.Client
	prefix string

	mu      sync.Mutex
	closed  bool
	subs    map[*redisSub]struct{}
	onResub []func(channel string)
}

type redisSub struct {
	pubsub *redis.PubSub
	done   chan struct{}
	once   sync.Once
}

// NewRedis connects to the Redis at rawURL (redis://[user:password@]host:port/db, rediss:// for TLS, go-redis
// query options allowed) and pings it: an unreachable Redis is an error here (Open is the constructor that
// tolerates one). prefix, e.g. "authio:", is prepended to every key and channel.
func NewRedis(rawURL, prefix string) (*Redis, error) {
	r, err := newRedis(rawURL, prefix)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		_ = r.client.Close()
		return nil, fmt.Errorf("cache: redis at %s: %w", r.client.Options().Addr, err)
	}
	return r, nil
}

// newRedis parses rawURL and builds the client without contacting Redis; only a malformed URL is an error.
func newRedis(rawURL, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included; keep only the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("cache: parse redis URL: %w", err)
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = defaultPoolSize
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = defaultIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = defaultIOTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = defaultPoolTimeout
	}
	if opts.ClientName == "" {
		opts.ClientName = defaultClientName
	}
	// go-redis retries a refused dial 5 times, 100ms apart, inside every call (the URL cannot say otherwise).
	// Callers here have a fallback for an unreachable Redis (in-process counters, short cache TTLs), so one
	// quick failure serves them better than half a second of waiting on each call during an outage.
	opts.DialerRetries = 1
	// Let request deadlines cut Redis calls short instead of waiting out ReadTimeout.
	opts.ContextTimeoutEnabled = true
	quietRedisLogs()

	return &Redis{client: redis.NewClient(opts), prefix: prefix, subs: make(map[*redisSub]struct{})}, nil
}

// wrap maps go-redis's closed-client error onto ErrClosed and tags every other failure with ErrUnavailable,
// so callers need only this package's errors.
func wrap(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, redis.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (r *Redis) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, errBadWindow
	}
	ms := (window + time.Millisecond - 1) / time.Millisecond // round up: a sub-millisecond window must not be 0
	res, err := hitScript.Run(ctx, r.client, []string{r.prefix + key}, int64(ms)).Int64Slice()
	if err != nil {
		return 0, 0, wrap(err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("cache: unexpected Hit reply %v", res)
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

func (r *Redis) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	k := r.prefix + key
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	// MULTI so the count and the time left describe the same window.
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, k)
		pttl = p.PTTL(ctx, k)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, wrap(err)
	}
	n, err := parseCounter(key, []byte(get.Val()))
	if err != nil {
		return 0, 0, err
	}
	left := pttl.Val()
	if left < 0 { // -1: no expiry; -2: vanished
		left = 0
	}
	return n, left, nil
}

func (r *Redis) Unhit(ctx context.Context, key string) error {
	return wrap(unhitScript.Run(ctx, r.client, []string{r.prefix + key}).Err())
}

func (r *Redis) Reset(ctx context.Context, key string) error {
	return r.Delete(ctx, key)
}

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap(err)
	}
	return b, true, nil
}

// ttlArg maps "no expiry" onto go-redis's 0; a negative duration would otherwise mean KEEPTTL.
func ttlArg(ttl time.Duration) time.Duration {
	return max(ttl, 0)
}

func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return wrap(r.client.Set(ctx, r.prefix+key, value, ttlArg(ttl)).Err())
}

func (r *Redis) Delete(ctx context.Context, key string) error {
	return wrap(r.client.Del(ctx, r.prefix+key).Err())
}

func (r *Redis) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := r.client.SetNX(ctx, r.prefix+key, value, ttlArg(ttl)).Result()
	return ok, wrap(err)
}

func (r *Redis) Publish(ctx context.Context, channel, msg string) error {
	return wrap(r.client.Publish(ctx, r.prefix+channel, msg).Err())
}

func (r *Redis) Subscribe(ctx context.Context, channel string, fn func(msg string)) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// client.Subscribe records the channel even when it cannot reach Redis, so the PubSub subscribes on every
	// connection it makes from now on, the first included.
	s := &redisSub{pubsub: r.client.Subscribe(ctx, r.prefix+channel), done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = s.pubsub.Close()
		return nil, ErrClosed
	}
	r.subs[s] = struct{}{}
	r.mu.Unlock()

	stop := func() {
		s.once.Do(func() {
			close(s.done)
			_ = s.pubsub.Close()
			r.mu.Lock()
			delete(r.subs, s)
			r.mu.Unlock()
		})
	}

	// Redis confirms SUBSCRIBE on the subscribing connection before it delivers anything published after it, so
	// once the confirmation is read the subscription is live and later Publishes reach it.
	// client.Subscribe drops its own error; a failed SUBSCRIBE surfaces here, when Receive redials.
	confirmCtx, cancel := context.WithTimeout(ctx, startTimeout)
	reply, err := s.pubsub.Receive(confirmCtx)
	cancel()
	switch {
	case err == nil:
		if _, ok := reply.(*redis.Subscription); !ok {
			stop()
			return nil, fmt.Errorf("cache: subscribe %q: unexpected reply %T to SUBSCRIBE", channel, reply)
		}
	case ctx.Err() != nil || errors.Is(err, redis.ErrClosed):
		stop()
		return nil, fmt.Errorf("cache: subscribe %q: %w", channel, wrap(err))
	default:
		// Redis is unreachable. The subscription stays registered and goes live by itself when Redis answers;
		// the OnResubscribe hooks then tell the caller that messages may have been missed meanwhile.
	}

	// The PubSub reconnects and resubscribes after network errors (retrying every 100ms) and pings its
	// connection when it is idle, so a subscription outlives a Redis restart. Each SUBSCRIBE confirmation read
	// from here on is such a resubscription: messages published while it was reconnecting are lost (see
	// Publish), which the hooks report.
	msgs := s.pubsub.ChannelWithSubscriptions()
	go func() {
		for {
			select {
			case <-ctx.Done():
				stop()
				return
			case <-s.done:
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case <-s.done:
					return
				default:
				}
				switch m := m.(type) {
				case *redis.Subscription:
					if m.Kind == "subscribe" {
						r.resubscribed(channel)
					}
				case *redis.Message:
					fn(m.Payload)
				}
			}
		}
	}()
	return stop, nil
}

// OnResubscribe implements Reconnecting.
func (r *Redis) OnResubscribe(f func(channel string)) {
	r.mu.Lock()
	r.onResub = append(r.onResub, f)
	r.mu.Unlock()
}

func (r *Redis) resubscribed(channel string) {
	r.mu.Lock()
	hooks := slices.Clone(r.onResub)
	r.mu.Unlock()
	for _, f := range hooks {
		f(channel)
	}
}

func (r *Redis) Ping(ctx context.Context) error {
	return wrap(r.client.Ping(ctx).Err())
}

func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	subs := make([]*redisSub, 0, len(r.subs))
	for s := range r.subs {
		subs = append(subs, s)
	}
	r.mu.Unlock()

	for _, s := range subs {
		s.once.Do(func() {
			close(s.done)
			_ = s.pubsub.Close()
		})
	}
	return r.client.Close()
}

// String identifies the cache in logs without the URL, which may carry a password.
func (r *Redis) String() string {
	return "redis(" + r.client.Options().Addr + "/" + strconv.Itoa(r.client.Options().DB) + ", prefix " + strconv.Quote(r.prefix) + ")"
}
