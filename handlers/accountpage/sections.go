package accountpage

// registered lists the account page's sections in the order the page shows them: one line per section. A
// section's constructor gets the Handler (services, Done, Refuse, Failed).
func (h *Handler) registered() []Section {
	return []Section{
		&profileSection{h},
		&passwordSection{h},
		&sessionsSection{h},
		&identitiesSection{h},
		&authenticatorSection{h},
		&passkeysSection{h},
	}
}
