package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Prometheus collectors on a registry of the server's own (two servers in one test never collide).
type Metrics struct {
	Registry     *prometheus.Registry
	Requests     *prometheus.CounterVec
	Latency      *prometheus.HistogramVec
	TokensIssued *prometheus.CounterVec
}

// NewMetrics registers Authio's collectors plus the Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authio_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authio_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		TokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authio_tokens_issued_total", Help: "Access tokens issued by tenant and grant type.",
		}, []string{"tenant", "grant_type"}),
	}
	m.Registry.MustRegister(m.Requests, m.Latency, m.TokensIssued,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// keyPoolCollector exports the key pool (keys.KeyPool): the RSA keys it holds, counted in the database at each
// scrape, and how many this server keeps there (AUTHIO_KEY_POOL). When the count fails, the scrape goes on
// without it and the failure is logged.
type keyPoolCollector struct{ s *Server }

var (
	keyPoolReadyDesc = prometheus.NewDesc("authio_key_pool_keys",
		"RSA signing keys ready in the key pool (shared by the replicas on one database).", nil, nil)
	keyPoolTargetDesc = prometheus.NewDesc("authio_key_pool_target_keys",
		"RSA signing keys this server keeps in the key pool (AUTHIO_KEY_POOL; 0: it adds none).", nil, nil)
)

// keyPoolCountTimeout bounds the database count of one scrape.
const keyPoolCountTimeout = 2 * time.Second

func (c keyPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- keyPoolReadyDesc
	ch <- keyPoolTargetDesc
}

func (c keyPoolCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(keyPoolTargetDesc, prometheus.GaugeValue, float64(c.s.KeyPool.Target()))
	ctx, cancel := context.WithTimeout(context.Background(), keyPoolCountTimeout)
	defer cancel()
	n, err := c.s.KeyPool.Ready(ctx)
	if err != nil {
		c.s.Logger.Error("metrics: counting the keys in the key pool failed", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(keyPoolReadyDesc, prometheus.GaugeValue, float64(n))
}
