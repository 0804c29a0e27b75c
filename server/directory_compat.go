package server

import "github.com/authio/authio/directory"

// The directory's error helpers and types, for the services still in this package.
var (
	invalid  = directory.Invalid
	conflict = directory.Conflict
	notFound = directory.NotFound
)

type (
	// ValidationError is directory.ValidationError.
	ValidationError = directory.ValidationError
	// NotFoundError is directory.NotFoundError.
	NotFoundError = directory.NotFoundError
	// ConflictError is directory.ConflictError.
	ConflictError = directory.ConflictError
)
