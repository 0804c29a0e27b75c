// Package oidf reproduces, as Go tests, the OpenID Foundation conformance suite's Basic OP, Config OP and
// RP-Initiated Logout OP test plans against an Authio server started by internal/testenv: a small relying
// party (the "test RP") drives the server over HTTP with a cookie-jar browser that signs in through the hosted
// login form, and runs the checks each suite module makes, one subtest per module named as the suite names it.
// docs/oidf-conformance.md lists every module, what it checks and its status; the package has no non-test code.
package oidf
