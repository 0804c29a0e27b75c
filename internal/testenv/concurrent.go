package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Outcome is the answer to one of several concurrent requests.
type Outcome struct {
	Status   int
	Body     string
	Location string
	Err      error
}

// Concurrently sends the n requests mk builds all at once — a barrier releases them together — each through
// the client clients returns for its index, and returns their outcomes in order. It never calls t: goroutines
// other than the test's may not fail it.
func Concurrently(n int, clients func(i int) *http.Client, mk func(i int) *http.Request) []Outcome {
	out := make([]Outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		req, c := mk(i), clients(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := c.Do(req)
			if err != nil {
				out[i].Err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i] = Outcome{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Err: err}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// FormRequest is a POST of form to rawURL, as application/x-www-form-urlencoded.
func FormRequest(rawURL string, form url.Values) *http.Request {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// OneWinner checks that exactly one outcome is a 200 and every other one a 400 invalid_grant, and returns the
// winner's body.
func OneWinner(t testing.TB, what string, outs []Outcome) string {
	t.Helper()
	winner, wins := "", 0
	for i, o := range outs {
		switch {
		case o.Err != nil:
			t.Fatalf("%s, request %d: %v", what, i, o.Err)
		case o.Status == http.StatusOK:
			wins++
			winner = o.Body
		case o.Status == http.StatusBadRequest && errorOf(o.Body) == "invalid_grant":
		default:
			t.Errorf("%s, request %d: status %d %s, want 200 once and 400 invalid_grant otherwise", what, i, o.Status, o.Body)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d of %d concurrent requests succeeded, want exactly 1", what, wins, len(outs))
	}
	return winner
}

func errorOf(body string) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error
}
