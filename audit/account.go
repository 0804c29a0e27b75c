package audit

// Audit event types of the account page (a signed-in user changing their own account). Profile changes are
// directory's user.updated; ending a session is EventSessionEnded.
const (
	// EventPasswordChanged: the user changed their password (Data: sessions_ended, how many other sessions it
	// ended).
	EventPasswordChanged = "user.password_changed"
	// EventIdentityUnlinked: the user unlinked an upstream identity (Data: identity_id, connection_id).
	EventIdentityUnlinked = "user.identity_unlinked"
	// EventSessionsEnded: the user signed out every other session at once (Data: kept, the session kept;
	// count, how many ended).
	EventSessionsEnded = "session.others_ended"
)
