package management

import (
	"errors"
	"net/http"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// tenantSettingsView is every tenant setting with the value in effect (defaults filled in). Durations are seconds.
type tenantSettingsView struct {
	RefreshTokenReuseInterval   int `json:"refresh_token_reuse_interval"`
	BruteForceThreshold         int `json:"brute_force_threshold"`
	BruteForceBlockSeconds      int `json:"brute_force_block_seconds"`
	IPFailureLimit              int `json:"ip_failure_limit"`
	IPFailureWindowSeconds      int `json:"ip_failure_window_seconds"`
	AccountFailureLimit         int `json:"account_failure_limit"`
	AccountFailureWindowSeconds int `json:"account_failure_window_seconds"`
	// PasswordHash is how passwords set from now on are hashed: {"algorithm": "bcrypt", "cost": 10…15}.
	PasswordHash storage.PasswordHashSettings `json:"password_hash"`
}

func viewTenantSettings(ts storage.TenantSettings) tenantSettingsView {
	return tenantSettingsView{
		RefreshTokenReuseInterval: ts.RefreshTokenReuseInterval,
		BruteForceThreshold:       ts.BruteForceThreshold, BruteForceBlockSeconds: ts.BruteForceBlockSeconds,
		IPFailureLimit: ts.IPFailureLimit, IPFailureWindowSeconds: ts.IPFailureWindowSeconds,
		AccountFailureLimit: ts.AccountFailureLimit, AccountFailureWindowSeconds: ts.AccountFailureWindowSeconds,
		PasswordHash: *ts.PasswordHash,
	}
}

// tenantSettingsBody is a PATCH: the settings it names change, the others stay.
type tenantSettingsBody struct {
	RefreshTokenReuseInterval   *int              `json:"refresh_token_reuse_interval"`
	BruteForceThreshold         *int              `json:"brute_force_threshold"`
	BruteForceBlockSeconds      *int              `json:"brute_force_block_seconds"`
	IPFailureLimit              *int              `json:"ip_failure_limit"`
	IPFailureWindowSeconds      *int              `json:"ip_failure_window_seconds"`
	AccountFailureLimit         *int              `json:"account_failure_limit"`
	AccountFailureWindowSeconds *int              `json:"account_failure_window_seconds"`
	PasswordHash                *passwordHashBody `json:"password_hash"`
}

// passwordHashBody is the password_hash setting as PATCHed: both fields, or the algorithm alone meaning bcrypt.
type passwordHashBody struct {
	Algorithm *string `json:"algorithm"`
	Cost      *int    `json:"cost"`
}

// getTenantSettings serves GET /tenants/settings (Auth0's path): the settings of the tenant the request came in on.
func (h *Handler) getTenantSettings(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.S.TenantSettings(r.Context())
	if err != nil {
		return err
	}
	return ok(w, viewTenantSettings(ts))
}

// updateTenantSettings serves PATCH /tenants/settings: a value out of range is 400 naming the setting, and then
// nothing changes.
func (h *Handler) updateTenantSettings(w http.ResponseWriter, r *http.Request) error {
	var b tenantSettingsBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ts, err := h.S.UpdateTenantSettings(r.Context(), b.update())
	if err != nil {
		return err
	}
	return ok(w, viewTenantSettings(ts))
}

// update is the change b asks for.
func (b tenantSettingsBody) update() server.TenantSettingsUpdate {
	var ph *storage.PasswordHashSettings
	if b.PasswordHash != nil {
		ph = &storage.PasswordHashSettings{Algorithm: "bcrypt"}
		if b.PasswordHash.Algorithm != nil {
			ph.Algorithm = *b.PasswordHash.Algorithm
		}
		if b.PasswordHash.Cost != nil {
			ph.Cost = *b.PasswordHash.Cost
		}
	}
	return server.TenantSettingsUpdate{
		PasswordHash:              ph,
		RefreshTokenReuseInterval: b.RefreshTokenReuseInterval,
		BruteForceThreshold:       b.BruteForceThreshold, BruteForceBlockSeconds: b.BruteForceBlockSeconds,
		IPFailureLimit: b.IPFailureLimit, IPFailureWindowSeconds: b.IPFailureWindowSeconds,
		AccountFailureLimit: b.AccountFailureLimit, AccountFailureWindowSeconds: b.AccountFailureWindowSeconds,
	}
}

// TenantSettingsJSON is the tenant's settings as GET /api/v2/tenants/settings shows them (the CLI prints the
// same): every setting with the value in effect.
func TenantSettingsJSON(ts storage.TenantSettings) any { return viewTenantSettings(ts) }

// DecodeTenantSettingsPatch reads a body of PATCH /api/v2/tenants/settings (one JSON object, no unknown
// members; the CLI takes the same) into the change it asks for. Bad JSON is an error whose text says what is
// wrong, naming the member.
func DecodeTenantSettingsPatch(raw []byte) (server.TenantSettingsUpdate, error) {
	var b tenantSettingsBody
	if err := httpx.DecodeJSONObject(raw, &b); err != nil {
		var be *httpx.BodyError
		if errors.As(err, &be) {
			return server.TenantSettingsUpdate{}, errors.New(be.Message)
		}
		return server.TenantSettingsUpdate{}, err
	}
	return b.update(), nil
}
