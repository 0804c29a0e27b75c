package directory

import (
	"context"

	"github.com/authio/authio/storage"
)

// ListClients returns the tenant's clients, oldest first.
func (s *Directory) ListClients(ctx context.Context) ([]storage.Client, error) {
	return s.Store.ListClients(ctx)
}

// Client finds a client of the tenant by id.
func (s *Directory) Client(ctx context.Context, id string) (storage.Client, error) {
	c, err := s.Store.GetClientByID(ctx, id)
	return c, notFound(err, "client", id)
}

// ClientUpdate changes the fields that are not nil. A client's type never changes: it may be given only with
// its current value.
type ClientUpdate struct {
	Type                                             *string
	Name                                             *string
	RedirectURIs, PostLogoutRedirectURIs, GrantTypes *[]string
	Audiences, Scopes, WebOrigins                    *[]string
	OrganizationUsage                                *string
}

// UpdateClient changes a client under the rules of CreateClient and returns it as stored.
func (s *Directory) UpdateClient(ctx context.Context, id string, upd ClientUpdate) (storage.Client, error) {
	err := s.Store.UpdateClient(ctx, id, func(old storage.Client) (storage.Client, error) {
		if upd.Type != nil && *upd.Type != old.Type {
			return old, invalid("type", "cannot be changed; create a new client")
		}
		spec := ClientSpec{Name: old.Name, Type: old.Type, RedirectURIs: old.RedirectURIs,
			PostLogoutRedirectURIs: old.PostLogoutRedirectURIs, GrantTypes: old.GrantTypes, Audiences: old.Audiences,
			Scopes: old.Scopes, WebOrigins: old.WebOrigins, OrganizationUsage: old.OrganizationUsage}
		for _, f := range []struct {
			dst *[]string
			src *[]string
		}{
			{&spec.RedirectURIs, upd.RedirectURIs}, {&spec.PostLogoutRedirectURIs, upd.PostLogoutRedirectURIs},
			{&spec.GrantTypes, upd.GrantTypes}, {&spec.Audiences, upd.Audiences}, {&spec.Scopes, upd.Scopes},
			{&spec.WebOrigins, upd.WebOrigins},
		} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if upd.Name != nil {
			spec.Name = *upd.Name
		}
		if upd.OrganizationUsage != nil {
			spec.OrganizationUsage = *upd.OrganizationUsage
		}
		if err := normalizeClientSpec(&spec); err != nil {
			return old, err
		}
		old.Name, old.OrganizationUsage = spec.Name, spec.OrganizationUsage
		old.RedirectURIs, old.PostLogoutRedirectURIs, old.GrantTypes = spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.GrantTypes
		old.Audiences, old.Scopes, old.WebOrigins = spec.Audiences, spec.Scopes, spec.WebOrigins
		return old, nil
	})
	if err != nil {
		return storage.Client{}, notFound(err, "client", id)
	}
	return s.Client(ctx, id)
}

// DeleteClient removes a client with its roles and organization links.
func (s *Directory) DeleteClient(ctx context.Context, id string) error {
	if err := s.Store.DeleteClient(ctx, id); err != nil {
		return notFound(err, "client", id)
	}
	return nil
}

// RotateClientSecret gives a confidential client a new 256-bit secret, returned only here; the old one stops
// working at once.
func (s *Directory) RotateClientSecret(ctx context.Context, id string) (CreatedClient, error) {
	c, err := s.Client(ctx, id)
	if err != nil {
		return CreatedClient{}, err
	}
	if c.Type != storage.ClientConfidential {
		return CreatedClient{}, invalid("type", "public clients have no secret")
	}
	secret, hash := s.newClientSecret(ctx)
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.UpdateClient(ctx, id, func(old storage.Client) (storage.Client, error) {
			old.SecretHash = hash
			return old, nil
		}); err != nil {
			return notFound(err, "client", id)
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventClientSecretRotated, ClientID: id})
	})
	if err != nil {
		return CreatedClient{}, err
	}
	return CreatedClient{ClientID: id, ClientSecret: secret}, nil
}
