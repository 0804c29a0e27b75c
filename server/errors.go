package server

import "github.com/authio/authio/directory"

// invalid is directory.Invalid, for the services in this package (tenant settings, tenants).
func invalid(field, format string, args ...any) error {
	return directory.Invalid(field, format, args...)
}
