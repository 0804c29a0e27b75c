// Package webauthntest is a software WebAuthn authenticator for tests and benchmarks: an ECDSA P-256 key that
// answers the options a relying party sends the browser with what navigator.credentials.create and .get would
// give the page (WebAuthn Level 2: clientDataJSON, authenticator data, "none" attestation, a DER ECDSA
// signature), as the JSON Authio's passkey script posts. Its flags and counter are fields, so tests can make it
// misbehave.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator flags (WebAuthn L2 §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator is one credential of a software authenticator.
type Authenticator struct {
	Key          *ecdsa.PrivateKey
	CredentialID []byte
	// RPID is the relying party the credential was created for (set by Create); every assertion is signed for it,
	// whatever the options say, as a real authenticator would only use it there.
	RPID string
	// UserHandle is the user id the relying party gave at creation.
	UserHandle []byte
	// Counter is the signature counter of the next answer; Step is added to it after each (0: a passkey that
	// does not count).
	Counter, Step uint32
	// BackupEligible and BackupState are the BE and BS flags of every answer; NoUV leaves user verification out.
	BackupEligible, BackupState, NoUV bool
	// Transports are reported at creation.
	Transports []string
}

// New returns an authenticator with a fresh key and credential id, counting from 1.
func New() *Authenticator {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		panic(err)
	}
	return &Authenticator{Key: k, CredentialID: id, Counter: 1, Step: 1, Transports: []string{"internal", "hybrid"}}
}

var b64 = base64.RawURLEncoding

func (a *Authenticator) flags() byte {
	f := byte(flagUP)
	if !a.NoUV {
		f |= flagUV
	}
	if a.BackupEligible {
		f |= flagBE
	}
	if a.BackupState {
		f |= flagBS
	}
	return f
}

func (a *Authenticator) authData(attested bool) ([]byte, error) {
	h := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, h[:]...)
	f := a.flags()
	if attested {
		f |= flagAT
	}
	out = append(out, f)
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: zero, as "none" attestation may report
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.CredentialID)))
		out = append(out, a.CredentialID...)
		pub := a.Key.PublicKey
		x, y := make([]byte, 32), make([]byte, 32)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		key, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
			PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
			Curve:         int64(webauthncose.P256), XCoord: x, YCoord: y})
		if err != nil {
			return nil, err
		}
		out = append(out, key...)
	}
	a.Counter += a.Step
	return out, nil
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// options is what the authenticator reads of the relying party's options ({"publicKey": …}).
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

// Create answers creation options (JSON, as the server sent them) from origin: the PublicKeyCredential JSON with a
// "none" attestation. It takes the RP ID and user handle from the options.
func (a *Authenticator) Create(optionsJSON []byte, origin string) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: creation options: %w", err)
	}
	if o.PublicKey.Challenge == "" || o.PublicKey.RP.ID == "" {
		return nil, errors.New("webauthntest: creation options without a challenge or an RP ID")
	}
	uh, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("webauthntest: user id: %w", err)
	}
	a.RPID, a.UserHandle = o.PublicKey.RP.ID, uh
	ad, err := a.authData(true)
	if err != nil {
		return nil, err
	}
	att, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, ad})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", o.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        a.Transports,
		},
	})
}

// Get answers request options (JSON, as the server sent them) from origin: the PublicKeyCredential JSON of an
// assertion, signed for the authenticator's own RP ID, with the user handle.
func (a *Authenticator) Get(optionsJSON []byte, origin string) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	return a.Assert(o.PublicKey.Challenge, origin)
}

// Assert signs an assertion for challenge (base64url) from origin.
func (a *Authenticator) Assert(challenge, origin string) ([]byte, error) {
	if a.RPID == "" {
		return nil, errors.New("webauthntest: the credential was never created")
	}
	ad, err := a.authData(false)
	if err != nil {
		return nil, err
	}
	cd := clientData("webauthn.get", challenge, origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
	})
}
