package server

import "github.com/authio/authio/directory"

// The directory's error constructors, for the services in this package (tenant settings, connections, tenants).
var (
	invalid  = directory.Invalid
	conflict = directory.Conflict
	notFound = directory.NotFound
)
