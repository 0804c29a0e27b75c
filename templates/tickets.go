package templates

// Pages of email verification and password reset (package handlers/tickets).
const (
	// PageForgot asks for the email address of an account whose password is forgotten; with Message set, it
	// shows the answer every address gets instead of the form.
	PageForgot = "forgot"
	// PageReset is the new-password form a reset link opens; Hidden carries the link's token.
	PageReset = "reset"
	// PageVerifyEmail says a verification email is on its way (or is needed) and offers to send it again for
	// Email.
	PageVerifyEmail = "verify_email"
)
