package mfa_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parallel runs fn n times at once and returns how many calls returned nil; every other call must fail with
// mfa.ErrInvalidCode.
func parallel(t *testing.T, n int, fn func() error) int {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, mfa.ErrInvalidCode):
			t.Errorf("call %d: %v, want nil or mfa.ErrInvalidCode", i, err)
		}
	}
	return ok
}

// TestTOTPLifecycle: a pending app counts for nothing; the confirming code's step and every earlier one are
// refused afterwards; one code raced by parallel checks is accepted once; the secret is encrypted at rest and bound
// to its user; recovery codes are single-use (raced too) and regenerating replaces them all.
func TestTOTPLifecycle(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		acme, globex := env.NewTenant("acme"), env.NewTenant("globex")
		alice, bob := acme.NewUser("alice@acme.test"), acme.NewUser("bob@acme.test")
		t0 := time.Now().Add(-10 * time.Minute).Truncate(30 * time.Second).Add(5 * time.Second)
		env.Clock.Freeze(t0)
		s, ctx := env.S, acme.Ctx

		enr, err := s.BeginTOTPEnrollment(ctx, alice, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enr.QR, "data:image/png;base64,") || !strings.HasPrefix(enr.URL, "otpauth://totp/Acme:") {
			t.Errorf("enrolment QR %.40q, URL %q", enr.QR, enr.URL)
		}
		secret := strings.ReplaceAll(enr.Secret, " ", "")
		again, err := s.BeginTOTPEnrollment(ctx, alice, "Acme")
		if err != nil || again.Secret != enr.Secret {
			t.Errorf("a second BeginTOTPEnrollment gave another key (%v)", err)
		}
		if need, err := s.MFARequired(ctx, alice); err != nil || need {
			t.Errorf("pending app: MFARequired = %v (%v), want false", need, err)
		}
		if err := s.CheckTOTP(ctx, alice, code(t, secret, t0)); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("a pending app's code signed in: %v", err)
		}
		cred, err := s.Store.TOTPCredential(ctx, alice.ID)
		if err != nil || !cred.Pending || strings.Contains(cred.Secret, secret) {
			t.Fatalf("stored pending credential %+v (%v): want pending, the secret not in clear", cred, err)
		}
		// The sealed secret is bound to alice: on bob's row it does not open.
		if _, err := s.ConfirmTOTPEnrollment(ctx, alice, "12345"); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("malformed confirming code: %v", err)
		}
		codes, err := s.ConfirmTOTPEnrollment(ctx, alice, code(t, secret, t0))
		if err != nil || len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("confirm: %d codes, %v", len(codes), err)
		}
		if _, err := s.BeginTOTPEnrollment(ctx, alice, "Acme"); !errors.Is(err, mfa.ErrAlreadyEnrolled) {
			t.Errorf("enrolling again: %v, want ErrAlreadyEnrolled", err)
		}
		if need, err := s.MFARequired(ctx, alice); err != nil || !need {
			t.Errorf("confirmed app: MFARequired = %v (%v), want true", need, err)
		}
		if need, err := s.MFARequired(ctx, bob); err != nil || need {
			t.Errorf("bob: MFARequired = %v (%v), want false", need, err)
		}
		// The confirming code (its step) and the previous step's are spent.
		for _, at := range []time.Time{t0, t0.Add(-30 * time.Second)} {
			if err := s.CheckTOTP(ctx, alice, code(t, secret, at)); !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("code of %v after the confirmation: %v, want ErrInvalidCode", at, err)
			}
		}
		env.Clock.Advance(30 * time.Second)
		next := code(t, secret, t0.Add(30*time.Second))
		if n := parallel(t, 8, func() error { return s.CheckTOTP(ctx, alice, next) }); n != 1 {
			t.Errorf("one code checked 8 times at once: accepted %d times, want 1", n)
		}
		// A code of the step after (skew) is accepted once too, and then the current step's is not.
		if err := s.CheckTOTP(ctx, alice, code(t, secret, t0.Add(time.Minute))); err != nil {
			t.Errorf("next step's code (skew): %v", err)
		}
		if err := s.CheckTOTP(ctx, alice, next); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("an older step after a later one: %v, want ErrInvalidCode", err)
		}
		// Another tenant's context reaches none of it.
		gctx := globex.Ctx
		if err := s.Store.UseTOTPStep(gctx, alice.ID, cred.ID, 1<<40, time.Now()); !errors.Is(err, storage.ErrAlreadyUsed) {
			t.Errorf("globex using acme's TOTP credential: %v, want ErrAlreadyUsed (nothing matched)", err)
		}
		if n, err := s.Store.DeleteSecondFactors(gctx, alice.ID); err != nil || n != 0 {
			t.Errorf("globex deleting alice's factors: %d rows (%v), want 0", n, err)
		}
		if _, err := s.Store.TOTPCredential(gctx, alice.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("globex reading alice's credential: %v", err)
		}
		// Copied onto bob's row, alice's sealed secret does not decrypt.
		if _, err := s.BeginTOTPEnrollment(ctx, bob, "Acme"); err != nil {
			t.Fatal(err)
		}
		bc, _ := s.Store.TOTPCredential(ctx, bob.ID)
		if err := s.Store.DeleteUserCredentials(ctx, bob.ID, []string{bc.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.StartTOTP(ctx, storage.Credential{UserID: bob.ID, Secret: cred.Secret, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmTOTPEnrollment(ctx, bob, code(t, secret, t0.Add(30*time.Second))); err == nil || errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("alice's secret on bob's row: %v, want a decryption failure", err)
		}

		// Recovery codes: once each, raced too; any case and spacing.
		if err := s.CheckRecoveryCode(ctx, alice, " "+strings.ToUpper(codes[0])+" "); err != nil {
			t.Errorf("recovery code: %v", err)
		}
		if err := s.CheckRecoveryCode(ctx, alice, codes[0]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("recovery code again: %v", err)
		}
		if err := s.CheckRecoveryCode(ctx, bob, codes[1]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("alice's recovery code for bob: %v", err)
		}
		if err := s.CheckRecoveryCode(context.WithoutCancel(gctx), alice, codes[1]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("alice's recovery code on globex: %v", err)
		}
		if n := parallel(t, 8, func() error { return s.CheckRecoveryCode(ctx, alice, codes[1]) }); n != 1 {
			t.Errorf("one recovery code used 8 times at once: accepted %d times, want 1", n)
		}
		fresh, err := s.RegenerateRecoveryCodes(ctx, alice)
		if err != nil || len(fresh) != mfa.RecoveryCodeCount {
			t.Fatalf("regenerate: %d, %v", len(fresh), err)
		}
		if err := s.CheckRecoveryCode(ctx, alice, codes[2]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("an old recovery code after regeneration: %v", err)
		}
		if err := s.CheckRecoveryCode(ctx, alice, fresh[0]); err != nil {
			t.Errorf("a new recovery code: %v", err)
		}
		if st, err := s.MFAStatus(ctx, alice.ID); err != nil || st.RecoveryCodesLeft != mfa.RecoveryCodeCount-1 {
			t.Errorf("status %+v (%v)", st, err)
		}
		if err := s.RemoveTOTP(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if st, err := s.MFAStatus(ctx, alice.ID); err != nil || st.TOTP || st.RecoveryCodesLeft != 0 {
			t.Errorf("after removal: %+v (%v)", st, err)
		}
		if err := s.RemoveTOTP(ctx, alice); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Errorf("removing twice: %v", err)
		}
	})
}
