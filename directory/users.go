package directory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/authio/authio/storage"
)

// ListUsers returns a page of the tenant's users and their total count.
func (s *Directory) ListUsers(ctx context.Context, p storage.Page) ([]storage.User, int64, error) {
	return s.Store.ListUsers(ctx, p)
}

// User finds a user of the tenant by id.
func (s *Directory) User(ctx context.Context, id string) (storage.User, error) {
	u, err := s.Store.GetUser(ctx, id)
	return u, notFound(err, "user", id)
}

// UserByEmail finds a user of the tenant by email address, compared in canonical form (canon.Email).
func (s *Directory) UserByEmail(ctx context.Context, email string) (storage.User, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.Store.GetUserByEmail(ctx, e)
	return u, notFound(err, "user", e)
}

// UserSpec describes a user to create. Profile sets standard profile claims (ProfileUpdate's rules).
type UserSpec struct {
	Email, Password, Name  string
	EmailVerified, Blocked bool
	Profile                ProfileUpdate
	// Connection names the password connection the password is a credential of (Auth0's "connection");
	// "" for the tenant's default, storage.DefaultPasswordConnection.
	Connection string
	// UserMetadata and AppMetadata are Auth0's metadata objects (CheckMetadata's rules); members set to null are
	// left out.
	UserMetadata, AppMetadata map[string]any
}

// AddUser creates a user (CreateUser's rules) and marks the email verified, or the user blocked, when spec says so. A taken email is
// a ConflictError.
func (s *Directory) AddUser(ctx context.Context, spec UserSpec) (storage.User, error) {
	if e, err := normalizeEmail(spec.Email); err == nil {
		if _, err := s.Store.GetUserByEmail(ctx, e); err == nil {
			return storage.User{}, conflict("email", "a user with this email already exists")
		} else if !errors.Is(err, storage.ErrNotFound) {
			return storage.User{}, err
		}
	}
	name, err := checkText("name", spec.Name, false, 255)
	if err != nil {
		return storage.User{}, err
	}
	profile, _, err := spec.Profile.Apply(storage.UserProfile{})
	if err != nil {
		return storage.User{}, err
	}
	userMeta, err := MergeMetadata("user_metadata", nil, spec.UserMetadata)
	if err != nil {
		return storage.User{}, err
	}
	appMeta, err := MergeMetadata("app_metadata", nil, spec.AppMetadata)
	if err != nil {
		return storage.User{}, err
	}
	var con storage.Connection
	if spec.Connection != "" && spec.Connection != storage.DefaultPasswordConnection {
		con, err = s.Store.GetConnection(ctx, spec.Connection)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (con.Name != spec.Connection || con.Type != storage.ConnectionPassword)) {
			return storage.User{}, invalid("connection", "the tenant has no password connection named %q", spec.Connection)
		} else if err != nil {
			return storage.User{}, err
		}
	}
	// The password hash is computed outside any transaction (bcrypt takes a quarter of a second, and SQLite
	// has one connection). The user is then stored whole — blocked, verified, metadata, connection credential —
	// with its audit event in one transaction: it never exists, even for a moment, without what spec says.
	u, err := s.newUser(ctx, spec.Email, spec.Password, name)
	if err != nil {
		return u, err
	}
	u.EmailVerified, u.Blocked, u.Profile = spec.EmailVerified, spec.Blocked, profile
	u.UserMetadata, u.AppMetadata = userMeta, appMeta
	hash := u.PasswordHash
	if con.ID != "" { // the password belongs to another password connection than the default
		u.PasswordHash = ""
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.insertUser(ctx, u); err != nil {
			return err
		}
		if con.ID != "" {
			if err := s.Store.SetPasswordCredential(ctx, u.ID, con.ID, hash); err != nil {
				return err
			}
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventUserCreated, UserID: u.ID})
	})
	if err != nil {
		return storage.User{}, err
	}
	return s.User(ctx, u.ID)
}

// UserUpdate changes the fields that are not nil. A new email is unverified unless EmailVerified says otherwise.
// Blocked (Auth0's "blocked") stops the user from signing in and from obtaining tokens, and ends their browser
// sessions; tokens already issued are refused at their next refresh, exchange or switch. Profile changes the
// standard profile claims (ProfileUpdate); like name, they show in the user's next token, refresh included.
type UserUpdate struct {
	Email, Name, Password  *string
	EmailVerified, Blocked *bool
	Profile                ProfileUpdate
	// UserMetadata and AppMetadata merge into the stored objects as Auth0 merges them (MergeMetadata): members
	// given replace the stored ones, members set to null are removed, and an empty object removes them all.
	UserMetadata, AppMetadata *map[string]any
}

// UpdateUser changes a user and returns it as stored.
func (s *Directory) UpdateUser(ctx context.Context, id string, upd UserUpdate) (storage.User, error) {
	if upd.Email != nil {
		e, err := normalizeEmail(*upd.Email)
		if err != nil {
			return storage.User{}, err
		}
		upd.Email = &e
	}
	if upd.Name != nil {
		n, err := checkText("name", *upd.Name, false, 255)
		if err != nil {
			return storage.User{}, err
		}
		upd.Name = &n
	}
	// Checked here, before any write; applied to the stored profile and metadata inside the update.
	if _, _, err := upd.Profile.Apply(storage.UserProfile{}); err != nil {
		return storage.User{}, err
	}
	for _, m := range []struct {
		field string
		upd   *map[string]any
	}{{"user_metadata", upd.UserMetadata}, {"app_metadata", upd.AppMetadata}} {
		if m.upd != nil {
			if _, err := MergeMetadata(m.field, nil, *m.upd); err != nil {
				return storage.User{}, err
			}
		}
	}
	hash := ""
	if upd.Password != nil {
		if err := CheckPasswordPolicy(*upd.Password); err != nil {
			return storage.User{}, err
		}
		var err error
		if hash, err = s.HashPassword(ctx, *upd.Password); err != nil {
			return storage.User{}, err
		}
	}
	var changed []string
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		err := s.Store.UpdateUser(ctx, id, func(old storage.User) (storage.User, error) {
			if upd.Email != nil && *upd.Email != old.Email {
				old.Email, old.EmailVerified = *upd.Email, false
				changed = append(changed, "email")
			}
			if upd.EmailVerified != nil && *upd.EmailVerified != old.EmailVerified {
				old.EmailVerified = *upd.EmailVerified
				changed = append(changed, "email_verified")
			}
			if upd.Name != nil && *upd.Name != old.Name {
				old.Name = *upd.Name
				changed = append(changed, "name")
			}
			p, profileChanged, err := upd.Profile.Apply(old.Profile)
			if err != nil {
				return old, err
			}
			old.Profile = p
			changed = append(changed, profileChanged...)
			if hash != "" {
				old.PasswordHash = hash
				changed = append(changed, "password")
			}
			if upd.Blocked != nil && *upd.Blocked != old.Blocked {
				old.Blocked = *upd.Blocked
				changed = append(changed, "blocked")
			}
			for _, m := range []struct {
				field string
				upd   *map[string]any
				dst   *storage.JSONMap
			}{{"user_metadata", upd.UserMetadata, &old.UserMetadata}, {"app_metadata", upd.AppMetadata, &old.AppMetadata}} {
				if m.upd == nil {
					continue
				}
				merged, err := MergeMetadata(m.field, *m.dst, *m.upd)
				if err != nil {
					return old, err
				}
				*m.dst = merged
				changed = append(changed, m.field)
			}
			return old, nil
		})
		if err != nil {
			return err
		}
		if slices.Contains(changed, "email") {
			// What was mailed to the old address (sign-in links and codes) proves that mailbox, not the new one.
			if _, err := s.Store.InvalidateOneTimeSecrets(ctx, storage.OneTimeEmailSignIn, id, s.Now()); err != nil {
				return err
			}
		}
		if hash != "" || (upd.Blocked != nil && *upd.Blocked) {
			// A new password ends the sessions the old one opened; blocking ends every session.
			if err := s.Store.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventUserUpdated, UserID: id, Data: storage.JSONMap{"changed": changed}})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return storage.User{}, conflict("email", "a user with this email already exists")
	} else if err != nil {
		return storage.User{}, notFound(err, "user", id)
	}
	return s.User(ctx, id)
}

// DeleteUser removes a user with their sessions, memberships and roles.
func (s *Directory) DeleteUser(ctx context.Context, id string) error {
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.DeleteUser(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventUserDeleted, UserID: id})
	})
	return notFound(err, "user", id)
}

// UserOrganizations lists a user's memberships with their organizations' names.
func (s *Directory) UserOrganizations(ctx context.Context, id string) ([]storage.UserMembership, error) {
	if _, err := s.User(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.ListUserMemberships(ctx, id)
}

// MaxMetadataBytes bounds each metadata object of a user (user_metadata, app_metadata) in its JSON form.
const MaxMetadataBytes = 16 * 1024

// MergeMetadata merges upd into the metadata object old as Auth0 merges a PATCH of user_metadata or app_metadata:
// each member of upd replaces the member of that name (nested objects are replaced whole, not merged), a member
// set to null removes it, and an empty upd removes every member. Creating a user merges into nothing. The result
// must be at most MaxMetadataBytes of JSON with member names that are not empty; otherwise it is a
// ValidationError naming field.
func MergeMetadata(field string, old storage.JSONMap, upd map[string]any) (storage.JSONMap, error) {
	out := storage.JSONMap{}
	if len(upd) > 0 {
		for k, v := range old {
			out[k] = v
		}
	}
	for k, v := range upd {
		if strings.TrimSpace(k) == "" {
			return nil, invalid(field, "member names must not be empty")
		}
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, invalid(field, "is not a JSON object")
	}
	if len(b) > MaxMetadataBytes {
		return nil, invalid(field, "must be at most %d bytes of JSON", MaxMetadataBytes)
	}
	return out, nil
}

// UserIdentities returns the identities of the users with ids, as Auth0 lists them (storage.ListUserLinks), by
// user id: a password on a connection, or a linked upstream account.
func (s *Directory) UserIdentities(ctx context.Context, ids []string) (map[string][]storage.UserLink, error) {
	links, err := s.Store.ListUserLinks(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]storage.UserLink, len(ids))
	for _, l := range links {
		out[l.UserID] = append(out[l.UserID], l)
	}
	return out, nil
}
