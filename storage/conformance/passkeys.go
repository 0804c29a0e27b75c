package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// testPasskeys covers passkeys (credentials of type webauthn) and their ceremonies' challenges: lookup by RP ID and
// credential id, the conditional sign-count write, single use of a challenge under concurrency, and that tenant B
// never reads, uses or changes tenant A's.
func testPasskeys(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	u := newUser(t, s, ctx)
	uB := newUser(t, s, ctxB)
	con := storage.Connection{ID: "con_" + rnd(t), Name: "passkeys", Type: storage.ConnectionPasskey, Settings: storage.JSONMap{},
		Enabled: true, CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateConnection", s.CreateConnection(ctx, con))
	conB := storage.Connection{ID: "con_" + rnd(t), Name: "passkeys", Type: storage.ConnectionPasskey, Settings: storage.JSONMap{},
		Enabled: true, CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateConnection B", s.CreateConnection(ctxB, conB))

	pk := storage.Credential{UserID: u.ID, ConnectionID: con.ID, RPID: "acme.test", CredentialID: "cred-" + rnd(t), SignCount: 3,
		Metadata: storage.JSONMap{"name": "Laptop", "public_key": "pk", "backup_eligible": false}, CreatedAt: now()}
	mustNil(t, "CreatePasskey", s.CreatePasskey(ctx, pk))
	wantErr(t, "the same credential id on the same RP ID", s.CreatePasskey(ctx, pk), storage.ErrAlreadyExists)
	other := pk
	other.RPID = "login.acme.test"
	mustNil(t, "the same credential id on another RP ID", s.CreatePasskey(ctx, other))
	wantErr(t, "a passkey for another tenant's user", s.CreatePasskey(ctx, storage.Credential{UserID: uB.ID, ConnectionID: con.ID,
		RPID: "acme.test", CredentialID: "x-" + rnd(t), CreatedAt: now()}), storage.ErrNotFound)

	got, err := s.PasskeyByCredentialID(ctx, "acme.test", pk.CredentialID)
	mustNil(t, "PasskeyByCredentialID", err)
	if got.UserID != u.ID || got.TenantID != tn.ID || got.Type != storage.CredentialWebAuthn || got.SignCount != 3 ||
		got.Metadata["name"] != "Laptop" || got.ID == "" {
		t.Fatalf("passkey = %+v", got)
	}
	_, err = s.PasskeyByCredentialID(ctx, "globex.test", pk.CredentialID)
	wantErr(t, "the credential id on an RP ID it was not registered on", err, storage.ErrNotFound)
	list, err := s.ListPasskeys(ctx, u.ID)
	mustNil(t, "ListPasskeys", err)
	if len(list) != 2 {
		t.Fatalf("ListPasskeys = %+v, want two", list)
	}

	t.Run("sign count is a conditional write", func(t *testing.T) {
		when := at(0)
		ok, unexpected := race(s, ctx, 8, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.UsePasskey(ctx, got.ID, 3, 4, when, storage.JSONMap{"name": "Laptop", "public_key": "pk", "backup_state": false})
		})
		if ok != 1 || unexpected != nil {
			t.Fatalf("parallel uses from count 3: %d succeeded (unexpected error %v), want exactly 1", ok, unexpected)
		}
		after, _ := s.PasskeyByCredentialID(ctx, "acme.test", pk.CredentialID)
		if after.SignCount != 4 || after.LastUsedAt == nil || !after.LastUsedAt.Equal(when) || after.Metadata["backup_state"] != false {
			t.Errorf("after use: count %d, last used %v", after.SignCount, after.LastUsedAt)
		}
		wantErr(t, "use of an unknown passkey", s.UsePasskey(ctx, "crd_nobody", 0, 1, at(0), nil), storage.ErrNotFound)
	})

	t.Run("rename and delete", func(t *testing.T) {
		mustNil(t, "UpdatePasskey", s.UpdatePasskey(ctx, u.ID, got.ID, func(md storage.JSONMap) (storage.JSONMap, error) {
			md["name"] = "Phone"
			return md, nil
		}))
		if p, _ := s.GetPasskey(ctx, u.ID, got.ID); p.Metadata["name"] != "Phone" || p.Metadata["public_key"] != "pk" {
			t.Errorf("after rename: %+v", p.Metadata)
		}
		u2 := newUser(t, s, ctx)
		wantErr(t, "another user renames it", s.UpdatePasskey(ctx, u2.ID, got.ID, func(md storage.JSONMap) (storage.JSONMap, error) {
			return md, nil
		}), storage.ErrNotFound)
		wantErr(t, "another user deletes it", s.DeletePasskey(ctx, u2.ID, got.ID), storage.ErrNotFound)
	})

	t.Run("tenant isolation", func(t *testing.T) {
		_, err := s.PasskeyByCredentialID(ctxB, "acme.test", pk.CredentialID)
		wantErr(t, "B finds A's passkey", err, storage.ErrNotFound)
		_, err = s.GetPasskey(ctxB, u.ID, got.ID)
		wantErr(t, "B gets A's passkey", err, storage.ErrNotFound)
		if l, err := s.ListPasskeys(ctxB, u.ID); err != nil || len(l) != 0 {
			t.Errorf("B lists A's user's passkeys: %+v, %v", l, err)
		}
		wantErr(t, "B uses A's passkey", s.UsePasskey(ctxB, got.ID, 4, 5, at(0), nil), storage.ErrNotFound)
		wantErr(t, "B renames A's passkey", s.UpdatePasskey(ctxB, u.ID, got.ID, func(md storage.JSONMap) (storage.JSONMap, error) {
			return md, nil
		}), storage.ErrNotFound)
		wantErr(t, "B deletes A's passkey", s.DeletePasskey(ctxB, u.ID, got.ID), storage.ErrNotFound)
		wantErr(t, "B registers on A's connection", s.CreatePasskey(ctxB, storage.Credential{UserID: uB.ID, ConnectionID: con.ID,
			RPID: "b.test", CredentialID: "y-" + rnd(t), CreatedAt: now()}), storage.ErrNotFound)

		ch := storage.PasskeyChallenge{Binding: "flow:flw_a", Purpose: storage.PasskeyLogin, Challenge: "ch-" + rnd(t),
			RPID: "acme.test", Session: "{}", CreatedAt: now(), ExpiresAt: at(time.Minute)}
		mustNil(t, "A's challenge", s.CreatePasskeyChallenge(ctx, ch))
		_, err = s.ConsumePasskeyChallenge(ctxB, ch.Binding, ch.Purpose, ch.Challenge, now())
		wantErr(t, "B consumes A's challenge", err, storage.ErrAlreadyUsed)
		if _, err := s.ConsumePasskeyChallenge(ctx, ch.Binding, ch.Purpose, ch.Challenge, now()); err != nil {
			t.Errorf("A's challenge after B's attempt: %v", err)
		}
	})

	t.Run("challenges are used once", func(t *testing.T) {
		ch := storage.PasskeyChallenge{Binding: "session:ses_" + rnd(t), Purpose: storage.PasskeyRegister, Challenge: "ch-" + rnd(t),
			RPID: "acme.test", UserID: u.ID, Session: `{"challenge":"x"}`, CreatedAt: now(), ExpiresAt: at(time.Minute)}
		mustNil(t, "CreatePasskeyChallenge", s.CreatePasskeyChallenge(ctx, ch))
		_, err := s.ConsumePasskeyChallenge(ctx, ch.Binding, storage.PasskeyLogin, ch.Challenge, now())
		wantErr(t, "another purpose", err, storage.ErrAlreadyUsed)
		_, err = s.ConsumePasskeyChallenge(ctx, "session:other", ch.Purpose, ch.Challenge, now())
		wantErr(t, "another binding", err, storage.ErrAlreadyUsed)
		var used storage.PasskeyChallenge
		ok, unexpected := race(s, ctx, 8, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			c, err := s.ConsumePasskeyChallenge(ctx, ch.Binding, ch.Purpose, ch.Challenge, now())
			if err == nil {
				used = c
			}
			return err
		})
		if ok != 1 || unexpected != nil {
			t.Fatalf("parallel consumers: %d succeeded (unexpected error %v), want exactly 1", ok, unexpected)
		}
		if used.UserID != u.ID || used.RPID != "acme.test" || used.Session != `{"challenge":"x"}` {
			t.Errorf("consumed challenge = %+v", used)
		}
		late := storage.PasskeyChallenge{Binding: ch.Binding, Purpose: ch.Purpose, Challenge: "late-" + rnd(t), RPID: "acme.test",
			Session: "{}", CreatedAt: now(), ExpiresAt: at(time.Minute)}
		mustNil(t, "another challenge", s.CreatePasskeyChallenge(ctx, late))
		_, err = s.ConsumePasskeyChallenge(ctx, late.Binding, late.Purpose, late.Challenge, now().Add(2*time.Minute))
		wantErr(t, "an expired challenge", err, storage.ErrAlreadyUsed)

		// A binding keeps its newest MaxOpenPasskeyChallenges challenges.
		binding := "flow:flw_" + rnd(t)
		var values []string
		for i := range storage.MaxOpenPasskeyChallenges + 2 {
			v := "many-" + rnd(t)
			values = append(values, v)
			mustNil(t, "challenge", s.CreatePasskeyChallenge(ctx, storage.PasskeyChallenge{Binding: binding, Purpose: storage.PasskeyLogin,
				Challenge: v, RPID: "acme.test", Session: "{}", CreatedAt: now().Add(time.Duration(i) * time.Millisecond),
				ExpiresAt: at(time.Minute)}))
		}
		for i, v := range values {
			_, err := s.ConsumePasskeyChallenge(ctx, binding, storage.PasskeyLogin, v, now())
			if kept := i >= 2; kept != (err == nil) {
				t.Errorf("challenge %d of %d: consume error %v, want it kept: %v", i, len(values), err, kept)
			}
		}
	})
}
