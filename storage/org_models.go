package storage

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"time"
)

// Organization is a B2B account inside a tenant. Name is its slug, unique per tenant.
type Organization struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	Name          string
	DisplayName   string
	Metadata      JSONMap
	Branding      JSONMap
	DefaultRoleID string // "" for none; new members get this role with source "default"
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Membership statuses.
const (
	MembershipActive    = "active"
	MembershipInvited   = "invited"
	MembershipSuspended = "suspended"
)

// Membership links a user to an organization with its own status; roles are assigned to the membership.
type Membership struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	OrganizationID string
	UserID         string
	Status         string
	JoinedAt       time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Member is a membership with the user's email and name, as organization member lists show it.
type Member struct {
	Membership
	Email string
	Name  string
}

// UserMembership is a membership with its organization's names, as a user's own list shows it.
type UserMembership struct {
	Membership
	OrganizationName        string
	OrganizationDisplayName string
}

// Scope is one permission a resource server defines.
type Scope struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// ResourceServer is an API: the audience of access tokens, with the scopes roles may grant on it.
type ResourceServer struct {
	ID              string `gorm:"primaryKey"`
	TenantID        string
	Identifier      string
	Name            string
	Scopes          ScopeList
	TokenLifetime   int // access token lifetime in seconds
	RefreshLifetime int `gorm:"column:refresh_lifetime"` // refresh token lifetime in seconds
	Metadata        JSONMap
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Role holds permissions. OrganizationID is "" for a tenant-wide role, or the one organization whose
// members alone may hold it.
type Role struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	OrganizationID string
	Name           string
	Description    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Permission is a scope of a resource server, granted through a role.
type Permission struct {
	ResourceServer string `json:"resource_server_identifier"`
	Name           string `json:"permission_name"`
}

type rolePermission struct {
	TenantID       string `gorm:"primaryKey"`
	RoleID         string `gorm:"primaryKey"`
	ResourceServer string `gorm:"primaryKey"`
	Permission     string `gorm:"primaryKey"`
}

func (rolePermission) TableName() string { return "role_permissions" }

// Role assignment subjects: membership roles make organization tokens, user and client roles make internal
// (tenant-level) tokens.
const (
	SubjectMembership = "membership"
	SubjectUser       = "user"
	SubjectClient     = "client"
)

// Sources of a role assignment.
const (
	SourceManual      = "manual"
	SourceDefault     = "default"
	SourceSCIM        = "scim"
	SourceSSO         = "sso"
	SourceCustomerAPI = "customer_api"
)

type roleAssignment struct {
	TenantID    string `gorm:"primaryKey"`
	SubjectKind string `gorm:"primaryKey"`
	SubjectID   string `gorm:"primaryKey"`
	RoleID      string `gorm:"primaryKey"`
	Source      string
	CreatedAt   time.Time
}

func (roleAssignment) TableName() string { return "role_assignments" }

// AssignedRole is a role held by a subject, with how it got there.
type AssignedRole struct {
	Role
	Source     string
	AssignedAt time.Time
}

// Grants are a subject's role names and, for the audiences asked about, the permissions those roles hold.
type Grants struct {
	Roles       []string
	Permissions []string
}

type clientOrganization struct {
	TenantID       string `gorm:"primaryKey"`
	ClientID       string `gorm:"primaryKey"`
	OrganizationID string `gorm:"primaryKey"`
	CreatedAt      time.Time
}

func (clientOrganization) TableName() string { return "client_organizations" }

// APIKey is a secret management key. Only a keyed hash of the key is stored; Hint is its last characters.
type APIKey struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Name       string
	Mode       string // "live" or "test"
	KeyHash    string
	Hint       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// AuditEvent is one entry of a tenant's audit log. Seq orders the log and is the pagination cursor.
type AuditEvent struct {
	Seq            int64 `gorm:"primaryKey;autoIncrement"`
	ID             string
	TenantID       string
	Type           string
	Actor          string // who did it: "user:…", "client:…", "api_key:…", "cli"
	UserID         string
	OrganizationID string
	ClientID       string
	IP             string
	Data           JSONMap
	CreatedAt      time.Time
}

// AuditFilter selects audit events; zero fields do not filter. Results are newest first, or oldest first with
// Ascending.
type AuditFilter struct {
	Type           string
	UserID         string
	OrganizationID string
	Since, Until   time.Time
	Before         int64 // cursor: only events with Seq < Before
	After          int64 // checkpoint: only events with Seq > After (with Ascending, a log export reading forward)
	Ascending      bool
	Offset         int // events skipped, for offset pages
	Limit          int
}

// Page asks for one page of a list: Offset rows skipped, at most Limit returned (0: no limit).
type Page struct {
	Offset, Limit int
}

// JSONMap is a JSON object stored in a text column.
type JSONMap map[string]any

// Value implements driver.Valuer.
func (m JSONMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(m))
	return string(b), err
}

// Scan implements sql.Scanner.
func (m *JSONMap) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || b == nil {
		*m = nil
		return err
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*m = out
	return nil
}

// ScopeList is a resource server's scopes, stored as a JSON array.
type ScopeList []Scope

// Value implements driver.Valuer.
func (l ScopeList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Scope(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *ScopeList) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || b == nil {
		*l = nil
		return err
	}
	var out []Scope
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*l = out
	return nil
}

// Has reports whether the list defines scope value.
func (l ScopeList) Has(value string) bool {
	for _, s := range l {
		if s.Value == value {
			return true
		}
	}
	return false
}

func scanBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, errors.New("storage: unsupported column type for a JSON value")
}
