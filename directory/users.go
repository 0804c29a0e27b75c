package directory

import (
	"context"
	"errors"

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
	// has one connection); the verified flag and the audit event commit together right after.
	u, err := s.CreateUser(ctx, spec.Email, spec.Password, name)
	if err != nil {
		return u, err
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if con.ID != "" { // the password belongs to another password connection than the default
			if err := s.Store.SetPasswordCredential(ctx, u.ID, con.ID, u.PasswordHash); err != nil {
				return err
			}
			if err := s.Store.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
				old.PasswordHash = ""
				return old, nil
			}); err != nil {
				return err
			}
		}
		if spec.EmailVerified || spec.Blocked || profile != (storage.UserProfile{}) {
			if err := s.Store.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
				old.EmailVerified, old.Blocked, old.Profile = spec.EmailVerified, spec.Blocked, profile
				return old, nil
			}); err != nil {
				return err
			}
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventUserCreated, UserID: u.ID})
	})
	if err != nil {
		return u, err
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
	// Checked here, before any write; applied to the stored profile inside the update.
	if _, _, err := upd.Profile.Apply(storage.UserProfile{}); err != nil {
		return storage.User{}, err
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
			return old, nil
		})
		if err != nil {
			return err
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
