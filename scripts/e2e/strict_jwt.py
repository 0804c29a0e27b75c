"""Verify Authio tokens with PyJWT and Authlib, as a Python API or relying party would.

Usage: /usr/bin/python3 strict_jwt.py ISSUER JWKS_URI TOKEN AUDIENCE [TYP]
Both libraries must accept the token against the tenant's JWKS with iss == ISSUER (trailing slash included) and
aud containing AUDIENCE; prints one line per library and exits 1 when either refuses it. Debian packages:
python3-jwt, python3-authlib (.ci/run installs them).
"""
import json
import socket
import sys
import urllib.request

import jwt
from authlib.jose import JsonWebKey, JsonWebToken


def loopback_localhost():
    """Resolve *.localhost to loopback, as browsers do (RFC 6761 §6.3); the system resolver may not."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def main():
    loopback_localhost()
    issuer, jwks_uri, token, audience = sys.argv[1:5]
    typ = sys.argv[5] if len(sys.argv) > 5 else ""
    failed = False

    try:
        key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256", "ES256", "EdDSA"], audience=audience,
                            issuer=issuer, options={"require": ["exp", "iat", "iss", "sub"]})
        if typ and jwt.get_unverified_header(token).get("typ") != typ:
            raise ValueError("typ is not " + typ)
        print("ok   PyJWT %s accepts the token (iss %s, sub %s)" % (jwt.__version__, claims["iss"], claims["sub"]))
    except Exception as e:  # noqa: BLE001 - every refusal is a failure to report
        failed = True
        print("FAIL PyJWT refuses the token: %r" % (e,))

    try:
        with urllib.request.urlopen(jwks_uri, timeout=10) as r:
            keys = JsonWebKey.import_key_set(json.load(r))
        claims = JsonWebToken(["RS256", "ES256", "EdDSA"]).decode(token, keys, claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "sub": {"essential": True},
        })
        claims.validate(leeway=5)
        print("ok   Authlib accepts the token (iss %s)" % (claims["iss"],))
    except Exception as e:  # noqa: BLE001
        failed = True
        print("FAIL Authlib refuses the token: %r" % (e,))

    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
