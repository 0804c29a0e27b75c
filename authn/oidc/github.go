package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/authio/authio/authn"
)

// githubUser is what the kind reads of GET /user.
type githubUser struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
}

// githubEmail is one address of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// github reads the account a GitHub access token belongs to: its numeric id is the subject (a login can be
// renamed and reused), and the email is the primary address, verified as GitHub says it is (GET /user/emails,
// which the scope user:email opens; the profile's public email may be any address).
func (c *Connection) github(ctx context.Context, tok *oauth2.Token) (authn.Identity, error) {
	var u githubUser
	if err := c.githubGet(ctx, tok, "/user", &u); err != nil {
		return authn.Identity{}, err
	}
	if u.ID <= 0 {
		return authn.Identity{}, fmt.Errorf("oidc: github /user has no id: %w", authn.ErrUpstreamUnavailable)
	}
	var emails []githubEmail
	if err := c.githubGet(ctx, tok, "/user/emails", &emails); err != nil {
		return authn.Identity{}, err
	}
	id := authn.Identity{Subject: strconv.FormatInt(u.ID, 10), Name: u.Name,
		Profile: map[string]any{"login": u.Login}}
	if id.Name == "" {
		id.Name = u.Login
	}
	if u.AvatarURL != "" {
		id.Profile["picture"] = u.AvatarURL
	}
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = e.Email, e.Verified
			break
		}
	}
	return id, nil
}

// maxAPIBody bounds what is read of a GitHub API answer.
const maxAPIBody = 1 << 20

// githubGet reads path of the GitHub API with the token into v. A 401/403/404 is ErrInvalidCredentials (the
// token does not open the account); a failure to reach the API, a 5xx or an unreadable answer is
// ErrUpstreamUnavailable.
func (c *Connection) githubGet(ctx context.Context, tok *oauth2.Token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.s.apiURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	tok.SetAuthHeader(req)
	resp, err := c.deps.Client().Do(req)
	if err != nil {
		return fmt.Errorf("oidc: github %s: %v: %w", path, err, authn.ErrUpstreamUnavailable)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	switch {
	case err != nil:
		return fmt.Errorf("oidc: github %s: %v: %w", path, err, authn.ErrUpstreamUnavailable)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("oidc: github %s: HTTP %d: %w", path, resp.StatusCode, authn.ErrInvalidCredentials)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("oidc: github %s: HTTP %d: %w", path, resp.StatusCode, authn.ErrUpstreamUnavailable)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("oidc: github %s: %v: %w", path, err, authn.ErrUpstreamUnavailable)
	}
	return nil
}
