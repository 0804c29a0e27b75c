package directory

// CheckClientSpec validates spec as CreateClient does, without storing anything: nil, or a *ValidationError
// naming the field. A bulk import checks every client of a tenant before it creates any part of the tenant.
func CheckClientSpec(spec ClientSpec) error {
	return normalizeClientSpec(&spec)
}
