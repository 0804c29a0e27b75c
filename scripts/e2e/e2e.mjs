// End-to-end test of a RUNNING Authio server.
//
// Drives the authorization-code flow (PKCE S256) in headless Debian Chromium through
// playwright-core, and checks the tokens with strict third-party OIDC/JOSE libraries
// (openid-client v5 validates the ID token: iss, aud, nonce, signature via JWKS; jose
// verifies the JWT access token). Started by scripts/e2e.sh, which creates the tenants,
// user and clients with the CLI and passes them in the environment:
//
//   E2E_PORT                      port Authio listens on (127.0.0.1)
//   E2E_CALLBACK_PORT             port of the callback server this script runs on 127.0.0.1
//   E2E_ADMIN_PORT                (optional) AUTHIO_ADMIN_LISTEN port: /metrics, /tls/ask
//   E2E_USER_EMAIL, E2E_USER_PASSWORD, E2E_USER_ID   the user of tenant acme
//   E2E_ACME_PUBLIC_CLIENT_ID     public client of acme (authorization_code,refresh_token) with
//                                 redirect URI  http://127.0.0.1:$E2E_CALLBACK_PORT/callback and
//                                 post-logout   http://127.0.0.1:$E2E_CALLBACK_PORT/logged-out
//   E2E_ACME_CONF_CLIENT_ID, E2E_ACME_CONF_CLIENT_SECRET       confidential (client_credentials) of acme
//   E2E_GLOBEX_CONF_CLIENT_ID, E2E_GLOBEX_CONF_CLIENT_SECRET   confidential (client_credentials) of globex
//   E2E_GLOBEX_PUBLIC_CLIENT_ID   (optional) public client of globex
//   E2E_ACME_AUDIENCE             (optional) an --audience the acme confidential client was created with
//   E2E_GLOBEX_ALG                (optional) --signing-alg globex was created with (default RS256)
//   E2E_EXTRA_DOMAIN              (optional) a domain added to acme with `authio domain add`
//   E2E_SAME_SITE_DOMAIN          (optional) another domain of acme, a subdomain of a web origin of the public client
//                                 (auth.spa.localhost: the app at http://spa.localhost:$E2E_CALLBACK_PORT, same site)
//   E2E_BASE_DOMAIN (default localhost), E2E_SCHEME (default http), E2E_LABEL (printed),
//   E2E_CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.
// The harness (environment, HTTP from Node, checks, the report and the watchdog) is harness.mjs.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Issuer, generators, errors as oidcErrors } from 'openid-client';
import * as jose from 'jose';
import { chromium } from 'playwright-core';
import express from 'express';
import { auth as jwtBearer } from 'express-oauth2-jwt-bearer';

import {
  configure, need, BASE_DOMAIN, SCHEME, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, requireValue, short, isAt, inBrowser, run, lookup, fillPasswordSignIn, PASSWORD_SUBMIT, goBack,
} from './harness.mjs';

// ---------------------------------------------------------------- configuration

configure({ name: 'e2e', accept: 'application/json, text/html;q=0.9, */*;q=0.5' });

const PORT = need('E2E_PORT');
const CB_PORT = need('E2E_CALLBACK_PORT');
const ADMIN_PORT = process.env.E2E_ADMIN_PORT || '';

const USER_EMAIL = need('E2E_USER_EMAIL');
const USER_PASSWORD = need('E2E_USER_PASSWORD');
const USER_ID = need('E2E_USER_ID');
const ACME_PUBLIC_ID = need('E2E_ACME_PUBLIC_CLIENT_ID');
const ACME_CONF_ID = need('E2E_ACME_CONF_CLIENT_ID');
const ACME_CONF_SECRET = need('E2E_ACME_CONF_CLIENT_SECRET');
const GLOBEX_CONF_ID = need('E2E_GLOBEX_CONF_CLIENT_ID');
const GLOBEX_CONF_SECRET = need('E2E_GLOBEX_CONF_CLIENT_SECRET');
const GLOBEX_PUBLIC_ID = process.env.E2E_GLOBEX_PUBLIC_CLIENT_ID || '';
const ACME_AUDIENCE = process.env.E2E_ACME_AUDIENCE || '';
const GLOBEX_ALG = process.env.E2E_GLOBEX_ALG || 'RS256';
const EXTRA_DOMAIN = (process.env.E2E_EXTRA_DOMAIN || '').toLowerCase();
if (EXTRA_DOMAIN) configure({ loopbackHosts: [EXTRA_DOMAIN] }); // Node resolves it to 127.0.0.1

const hostFor = (slug) => `${slug}.${BASE_DOMAIN}:${PORT}`;
const ACME = `${SCHEME}://${hostFor('acme')}`; // base URL: scheme://host as sent, port kept; the issuer is ACME + '/'
const GLOBEX = `${SCHEME}://${hostFor('globex')}`;
const NOPE = `${SCHEME}://${hostFor('nope')}`;
const CB_ORIGIN = `http://127.0.0.1:${CB_PORT}`;
const REDIRECT_URI = `${CB_ORIGIN}/callback`;
const POST_LOGOUT_URI = `${CB_ORIGIN}/logged-out`;
const EVIL_URI = `${CB_ORIGIN}/evil`;
const SCOPE = 'openid profile email offline_access';
// A domain of acme on the same site as an app at its parent (auth.spa.localhost and spa.localhost), served by the
// callback server; e2e.sh registers http://<parent>:$E2E_CALLBACK_PORT/callback and that origin for the public client.
const SAME_SITE_DOMAIN = (process.env.E2E_SAME_SITE_DOMAIN || '').toLowerCase();
const SAME_SITE_APP = SAME_SITE_DOMAIN.includes('.') ? SAME_SITE_DOMAIN.split('.').slice(1).join('.') : '';

// ---------------------------------------------------------------- callback server

const callbackHits = [];
const callbackServer = http.createServer((req, res) => {
  callbackHits.push(req.url);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><title>e2e callback</title><p id="cb">callback received: ${req.url.replace(/[<>&"]/g, '')}</p>`);
});

// ---------------------------------------------------------------- browser helpers

// Opens url and returns the final URL when the browser reaches `prefix` (following
// server redirects), or throws after timeoutMs.
async function gotoAndExpect(page, url, prefix, timeoutMs = 15000) {
  const waiter = page.waitForURL((u) => isAt(u.href, prefix), { timeout: timeoutMs, waitUntil: 'commit' });
  await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs }).catch((e) => {
    // a navigation interrupted by the redirect is fine; the waiter decides
    if (!/interrupted|aborted/i.test(String(e))) throw e;
  });
  await waiter;
  return page.url();
}

async function fillLogin(page, email, password) {
  await fillPasswordSignIn(page, email, password);
}

// Full sign-in: opens the authorization URL, expects the login form (unless allowNoForm and
// the server answers directly), submits it and returns { url, sawForm } at the redirect URI.
async function signIn(page, authUrl, { allowNoForm = false } = {}) {
  await page.goto(authUrl, { waitUntil: 'domcontentloaded', timeout: 15000 });
  if (isAt(page.url(), REDIRECT_URI)) {
    if (!allowNoForm) throw new Error(`expected the login form, the server redirected straight to ${page.url()}`);
    return { url: page.url(), sawForm: false };
  }
  const at = new URL(page.url());
  assert(at.pathname === '/login', `expected to be on /login, at ${page.url()}`);
  await fillLogin(page, USER_EMAIL, USER_PASSWORD);
  const waiter = page.waitForURL((u) => isAt(u.href, REDIRECT_URI), { timeout: 15000, waitUntil: 'commit' });
  await page.click(PASSWORD_SUBMIT);
  await waiter;
  return { url: page.url(), sawForm: true };
}

// ---------------------------------------------------------------- token helpers

function decodeHeader(jwt) {
  return jose.decodeProtectedHeader(jwt);
}

// python ISSUER JWKS TOKEN AUDIENCE [TYP] : scripts/e2e/strict_jwt.py under Debian's python3 (python3-jwt,
// python3-authlib); rejects with its output when either library refuses the token.
function python(...args) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'strict_jwt.py');
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [script, ...args], { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${stdout}${stderr}`.trim() || err.message));
      else resolve(stdout);
    });
  });
}

async function tenantJWKS(base) {
  const r = await request('GET', `${base}/.well-known/jwks.json`);
  assert(r.status === 200, `GET ${base}/.well-known/jwks.json -> ${r.status}`);
  assert(r.json && Array.isArray(r.json.keys), `JWKS without keys array: ${short(r.text)}`);
  return r.json;
}

async function verifyAccessToken(at, base, algorithms = ['RS256']) {
  const jwks = await tenantJWKS(base);
  const { payload, protectedHeader } = await jose.jwtVerify(at, jose.createLocalJWKSet(jwks), {
    issuer: `${base}/`,
    typ: 'at+jwt',
    algorithms,
    clockTolerance: 5,
  });
  assert(protectedHeader.kid, 'access token header has no kid');
  return { payload, protectedHeader };
}

function expectOPError(e, codes, what) {
  if (!(e instanceof oidcErrors.OPError)) throw new Error(`${what}: expected an OAuth error, got ${e && e.message}`);
  if (codes && !codes.includes(e.error)) throw new Error(`${what}: expected error ${codes.join('|')}, got ${e.error} (${e.error_description || ''})`);
}

async function mustFail(promise, codes, what) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    expectOPError(e, codes, what);
    return e;
  }
  throw new Error(`${what}: expected an error, the server answered ${short(res)}`);
}

// ---------------------------------------------------------------- scenario

async function main() {
  const t0 = Date.now();
  console.log(`== Authio e2e ${LABEL ? `[${LABEL}] ` : ''}against ${ACME} (callback ${CB_ORIGIN})`);

  await new Promise((resolve, reject) => {
    callbackServer.once('error', reject);
    callbackServer.listen(Number(CB_PORT), '127.0.0.1', resolve);
  });

  // ---- plain HTTP: health, hosts, discovery
  await check('GET /healthz on a tenant host -> 200 ok', async () => {
    const r = await request('GET', `${ACME}/healthz`);
    eq(r.status, 200, 'status');
    eq(r.text.trim(), 'ok', 'body');
  });
  await check('GET /healthz on an unknown host -> 200 (no tenant needed)', async () => {
    const r = await request('GET', `${NOPE}/healthz`);
    eq(r.status, 200, 'status');
  });
  await check('GET /readyz -> 200', async () => {
    const r = await request('GET', `${ACME}/readyz`);
    eq(r.status, 200, `status (body ${short(r.text)})`);
  });
  await check('unknown host nope.localhost -> 404 JSON', async () => {
    const r = await request('GET', `${NOPE}/.well-known/openid-configuration`);
    eq(r.status, 404, 'status');
    assert(r.json !== undefined, `body is not JSON: ${short(r.text)}`);
  });
  await check('unknown host /authorize -> 404', async () => {
    const r = await request('GET', `${NOPE}/authorize?client_id=${ACME_PUBLIC_ID}&response_type=code`);
    eq(r.status, 404, 'status');
  });

  const acmeIssuer = await check('discovery of tenant acme (openid-client)', async () => {
    const iss = await Issuer.discover(`${ACME}/.well-known/openid-configuration`);
    eq(iss.issuer, `${ACME}/`, 'issuer (trailing slash, as Auth0 issues it)');
    const m = iss.metadata;
    eq(m.authorization_endpoint, `${ACME}/authorize`, 'authorization_endpoint');
    eq(m.token_endpoint, `${ACME}/oauth/token`, 'token_endpoint');
    eq(m.jwks_uri, `${ACME}/.well-known/jwks.json`, 'jwks_uri');
    assert(m.userinfo_endpoint, 'no userinfo_endpoint');
    assert(m.introspection_endpoint, 'no introspection_endpoint');
    assert(m.revocation_endpoint, 'no revocation_endpoint');
    return iss;
  });
  await check('discovery metadata: code flow, S256 only, RS256, end_session, iss parameter', async () => {
    const m = requireValue(acmeIssuer, 'acme discovery').metadata;
    assert((m.response_types_supported || []).includes('code'), `response_types_supported ${short(m.response_types_supported)}`);
    const ccm = m.code_challenge_methods_supported || [];
    assert(ccm.includes('S256') && !ccm.includes('plain'), `code_challenge_methods_supported ${short(ccm)}`);
    assert((m.id_token_signing_alg_values_supported || []).includes('RS256'), `id_token_signing_alg_values_supported ${short(m.id_token_signing_alg_values_supported)}`);
    eq(m.end_session_endpoint, `${ACME}/oidc/logout`, 'end_session_endpoint');
    eq(m.authorization_response_iss_parameter_supported, true, 'authorization_response_iss_parameter_supported');
    for (const g of ['authorization_code', 'refresh_token', 'client_credentials']) {
      assert((m.grant_types_supported || []).includes(g), `grant_types_supported lacks ${g}: ${short(m.grant_types_supported)}`);
    }
  });
  await check('GET /.well-known/oauth-authorization-server has the same issuer', async () => {
    const r = await request('GET', `${ACME}/.well-known/oauth-authorization-server`);
    eq(r.status, 200, 'status');
    eq(r.json && r.json.issuer, `${ACME}/`, 'issuer');
  });
  await check('JWKS: public keys only, each with kid', async () => {
    const jwks = await tenantJWKS(ACME);
    assert(jwks.keys.length >= 1, 'no keys');
    for (const k of jwks.keys) {
      assert(k.kid, `key without kid: ${short(k)}`);
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert(!(priv in k), `JWKS leaks private member "${priv}" (kid ${k.kid})`);
    }
  });
  const globexIssuer = await check('discovery of tenant globex: issuer differs from acme', async () => {
    const iss = await Issuer.discover(`${GLOBEX}/.well-known/openid-configuration`);
    eq(iss.issuer, `${GLOBEX}/`, 'globex issuer');
    assert(iss.issuer !== `${ACME}/`, 'globex and acme have the same issuer');
    return iss;
  });
  await check('acme and globex publish different signing keys', async () => {
    const a = (await tenantJWKS(ACME)).keys.map((k) => k.kid);
    const g = (await tenantJWKS(GLOBEX)).keys.map((k) => k.kid);
    assert(!a.some((k) => g.includes(k)), `shared kid(s): acme ${short(a)} globex ${short(g)}`);
  });

  await check(`globex (created with --signing-alg ${GLOBEX_ALG}) signs with ${GLOBEX_ALG}`, async () => {
    const gIss = requireValue(globexIssuer, 'globex discovery');
    assert((gIss.metadata.id_token_signing_alg_values_supported || []).includes(GLOBEX_ALG), `id_token_signing_alg_values_supported ${short(gIss.metadata.id_token_signing_alg_values_supported)}`);
    const kty = GLOBEX_ALG.startsWith('ES') ? 'EC' : 'RSA';
    const keys = (await tenantJWKS(GLOBEX)).keys;
    assert(keys.some((k) => k.kty === kty), `no ${kty} key in globex JWKS: ${short(keys.map((k) => [k.kid, k.kty, k.alg]))}`);
    const gconf = new gIss.Client({ client_id: GLOBEX_CONF_ID, client_secret: GLOBEX_CONF_SECRET, token_endpoint_auth_method: 'client_secret_basic' });
    const ts = await gconf.grant({ grant_type: 'client_credentials' });
    const { protectedHeader, payload } = await verifyAccessToken(ts.access_token, GLOBEX, [GLOBEX_ALG]);
    eq(protectedHeader.alg, GLOBEX_ALG, 'access token alg');
    eq(payload.client_id, GLOBEX_CONF_ID, 'client_id');
  });
  if (EXTRA_DOMAIN) {
    await check(`domain added with the CLI (${EXTRA_DOMAIN}) serves acme with its own issuer`, async () => {
      const base = `${SCHEME}://${EXTRA_DOMAIN}:${PORT}`;
      const r = await request('GET', `${base}/.well-known/openid-configuration`);
      eq(r.status, 200, 'status');
      eq(r.json && r.json.issuer, `${base}/`, 'issuer');
      const a = (await tenantJWKS(ACME)).keys.map((k) => k.kid).sort().join(' ');
      const b = (await tenantJWKS(base)).keys.map((k) => k.kid).sort().join(' ');
      eq(b, a, 'JWKS kids (same tenant)');
    });
  }

  if (ADMIN_PORT) {
    const ADMIN = `http://127.0.0.1:${ADMIN_PORT}`;
    await check('admin: /tls/ask?domain=acme.localhost -> 200, unknown domain -> 404', async () => {
      const a = await request('GET', `${ADMIN}/tls/ask?domain=acme.${BASE_DOMAIN}`);
      eq(a.status, 200, 'acme status');
      const n = await request('GET', `${ADMIN}/tls/ask?domain=nope.${BASE_DOMAIN}`);
      eq(n.status, 404, 'nope status');
      if (EXTRA_DOMAIN) eq((await request('GET', `${ADMIN}/tls/ask?domain=${EXTRA_DOMAIN}`)).status, 200, `${EXTRA_DOMAIN} status`);
    });
    await check('admin: /metrics is Prometheus text', async () => {
      const r = await request('GET', `${ADMIN}/metrics`);
      eq(r.status, 200, 'status');
      assert(/^# (HELP|TYPE) /m.test(r.text), `not Prometheus exposition: ${short(r.text)}`);
    });
  }

  const acmeIss = requireValue(acmeIssuer, 'acme discovery'); // everything below needs it
  const pub = new acmeIss.Client({
    client_id: ACME_PUBLIC_ID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  });
  // Same client, but tolerant of a MISSING `iss` authorization-response parameter (a wrong
  // `iss` is still refused by openid-client). Exchanges use it so that one defect does not hide
  // the rest; the presence and value of `iss` are asserted by separate checks.
  const laxIssuer = new Issuer({ ...acmeIss.metadata, authorization_response_iss_parameter_supported: false });
  const pubLax = new laxIssuer.Client(pub.metadata);
  const gpub =
    GLOBEX_PUBLIC_ID && globexIssuer
      ? new globexIssuer.Client({ client_id: GLOBEX_PUBLIC_ID, token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT_URI], response_types: ['code'] })
      : null;
  const globexAuthUrl = (extra = {}) => {
    const state = generators.state();
    const url = gpub.authorizationUrl({
      scope: SCOPE, state, nonce: generators.nonce(), code_challenge_method: 'S256',
      code_challenge: generators.codeChallenge(generators.codeVerifier()), ...extra,
    });
    return { url, state };
  };
  const conf = new acmeIss.Client({
    client_id: ACME_CONF_ID,
    client_secret: ACME_CONF_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const confPost = new acmeIss.Client({
    client_id: ACME_CONF_ID,
    client_secret: ACME_CONF_SECRET,
    token_endpoint_auth_method: 'client_secret_post',
  });

  // a fresh code-flow request: returns { url, checks }
  function newAuth(extra = {}) {
    const code_verifier = generators.codeVerifier();
    const state = generators.state();
    const nonce = generators.nonce();
    const url = pub.authorizationUrl({
      scope: SCOPE,
      code_challenge: generators.codeChallenge(code_verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, checks: { code_verifier, state, nonce, response_type: 'code' } };
  }

  // ---- client credentials (confidential client)
  await check('client_credentials (client_secret_basic): at+jwt access token from acme', async () => {
    const ts = await conf.grant({ grant_type: 'client_credentials' });
    assert(ts.access_token, 'no access_token');
    eq(ts.token_type, 'Bearer', 'token_type (as RFC 6750 spells the scheme, every grant alike)');
    assert(!ts.refresh_token, 'client_credentials must not return a refresh token');
    const { payload } = await verifyAccessToken(ts.access_token, ACME);
    eq(payload.client_id, ACME_CONF_ID, 'client_id claim');
  });
  await check('client_credentials (client_secret_post) works', async () => {
    const ts = await confPost.grant({ grant_type: 'client_credentials' });
    assert(ts.access_token, 'no access_token');
  });
  if (ACME_AUDIENCE) {
    await check('client_credentials with a registered audience= -> aud contains it', async () => {
      const ts = await conf.grant({ grant_type: 'client_credentials', audience: ACME_AUDIENCE });
      const { payload } = await verifyAccessToken(ts.access_token, ACME);
      assert([].concat(payload.aud).includes(ACME_AUDIENCE), `aud ${short(payload.aud)}`);
    });
    await check('express-oauth2-jwt-bearer (issuerBaseURL = the tenant domain) accepts the API token; another audience is refused', async () => {
      const ts = await conf.grant({ grant_type: 'client_credentials', audience: ACME_AUDIENCE });
      // An Express API on loopback protected by the middleware, asked as a client would; its agent resolves
      // *.localhost to loopback as Chromium does (Node's resolver may not).
      const agent = new http.Agent({ lookup });
      const run = (mw, at) => new Promise((resolve, reject) => {
        const app = express();
        app.get('/api', mw, (req, res) => res.json({ iss: req.auth.payload.iss, sub: req.auth.payload.sub }));
        app.use((err, req, res, next) => res.status(err.status || 500).json({ error: err.code || err.message })); // eslint-disable-line no-unused-vars
        const srv = app.listen(0, '127.0.0.1', async () => {
          try {
            const r = await request('GET', `http://127.0.0.1:${srv.address().port}/api`, { bearer: at });
            resolve(r.status === 200 ? { auth: { payload: r.json } } : { err: new Error(`${r.status} ${r.text || ''}`) });
          } catch (e) { reject(e); } finally { srv.close(); }
        });
      });
      const ok = await run(jwtBearer({ issuerBaseURL: ACME, audience: ACME_AUDIENCE, agent }), ts.access_token);
      assert(!ok.err, `refused: ${ok.err && ok.err.message}`);
      eq(ok.auth && ok.auth.payload.iss, `${ACME}/`, 'iss');
      const other = await run(jwtBearer({ issuerBaseURL: ACME, audience: 'https://another-api.example', agent }), ts.access_token);
      assert(other.err, 'a token for another audience was accepted');
      const foreign = await run(jwtBearer({ issuerBaseURL: GLOBEX, audience: ACME_AUDIENCE, agent }), ts.access_token);
      assert(foreign.err, "acme's token was accepted by a middleware configured for globex");
    });
    await check('PyJWT and Authlib (Python) accept the API token against the trailing-slash issuer', async () => {
      const ts = await conf.grant({ grant_type: 'client_credentials', audience: ACME_AUDIENCE });
      await python(`${ACME}/`, `${ACME}/.well-known/jwks.json`, ts.access_token, ACME_AUDIENCE, 'at+jwt');
    });
    await check('client_credentials with an unregistered audience is refused', async () => {
      await mustFail(conf.grant({ grant_type: 'client_credentials', audience: 'https://not-registered.example' }), null, 'unregistered audience');
    });
  }
  await check('client_credentials with a scope the client was not created with -> invalid_scope', async () => {
    await mustFail(conf.grant({ grant_type: 'client_credentials', scope: 'admin:everything' }), ['invalid_scope'], 'unregistered scope');
  });
  await check('client_credentials by the public client is refused', async () => {
    await mustFail(pub.grant({ grant_type: 'client_credentials' }), null, 'public client_credentials');
  });
  await check('/userinfo without a token -> 401', async () => {
    const r = await request('GET', `${ACME}/userinfo`);
    eq(r.status, 401, 'status');
  });
  await check('client_credentials with a wrong secret -> invalid_client', async () => {
    const bad = new acmeIss.Client({ client_id: ACME_CONF_ID, client_secret: 'wrong-' + ACME_CONF_SECRET, token_endpoint_auth_method: 'client_secret_basic' });
    await mustFail(bad.grant({ grant_type: 'client_credentials' }), ['invalid_client'], 'wrong secret');
  });
  await check('acme confidential client is unknown on globex -> invalid_client', async () => {
    const gIss = requireValue(globexIssuer, 'globex discovery');
    const c = new gIss.Client({ client_id: ACME_CONF_ID, client_secret: ACME_CONF_SECRET, token_endpoint_auth_method: 'client_secret_basic' });
    await mustFail(c.grant({ grant_type: 'client_credentials' }), ['invalid_client'], 'cross-tenant client');
  });

  // ---- browser
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authio-e2e-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60000,
    });
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);

    // login page and failed sign-ins (done first: they create no session)
    await check('/authorize without a session redirects to /login?state=<flow id>, without the request parameters', () =>
      inBrowser(page, async () => {
        const { url, checks } = newAuth();
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        const at = new URL(page.url());
        eq(`${at.protocol}//${at.host}${at.pathname}`, `${ACME}/login`, 'login page URL');
        const flow = at.searchParams.get('state') || '';
        assert(/^flw_/.test(flow), `no flow id in the sign-in URL ${short(page.url())}`);
        eq([...at.searchParams.keys()].join(','), 'state', 'parameters of the sign-in URL');
        assert(!page.url().includes(checks.state) && !page.url().includes('redirect_uri'), `the sign-in URL carries the request: ${short(page.url())}`);
        eq(await page.inputValue('form input[name="state"]'), flow, 'hidden flow id');
        // email first: the email step (autofill offers passkeys too), the password only at the methods step
        eq(await page.getAttribute('#email', 'autocomplete'), 'username webauthn', 'autocomplete of the email field');
        eq(await page.locator('form input[name="password"]').count(), 0, 'password inputs at the email step');
        assert(await page.locator('form input[type="hidden"]').count(), 'no hidden (CSRF) input');
        assert(await page.locator('form button[type="submit"]').count(), 'no submit button');
      }),
    );

    await check('wrong password and unknown email: form again, same message', () =>
      inBrowser(page, async () => {
        const attempt = async (email, password) => {
          await page.goto(newAuth().url, { waitUntil: 'domcontentloaded' });
          await fillLogin(page, email, password);
          await Promise.all([page.waitForEvent('load'), page.click(PASSWORD_SUBMIT)]);
          assert(!isAt(page.url(), REDIRECT_URI), 'a failed sign-in reached the redirect URI');
          eq(new URL(page.url()).pathname, '/login', 'path after a failed sign-in');
          assert(await page.locator('form input[name="password"]').count(), 'no form after a failed sign-in');
          return (await page.evaluate(() => document.body.innerText))
            .replaceAll(email, '<email>') // "Signing in as <email>"
            .replace(/Request ID:\s*\S+/gi, '')
            .replace(/\s+/g, ' ')
            .trim();
        };
        const wrongPw = await attempt(USER_EMAIL, USER_PASSWORD + 'x');
        const unknown = await attempt(`nobody-${crypto.randomBytes(4).toString('hex')}@acme.test`, USER_PASSWORD);
        eq(unknown, wrongPw, 'page text for unknown email vs wrong password');
      }),
    );

    await check('login_hint on /authorize skips the email step: "Signing in as" the hint, its password form', () =>
      inBrowser(page, async () => {
        await page.goto(newAuth({ login_hint: USER_EMAIL }).url, { waitUntil: 'domcontentloaded' });
        await page.waitForSelector('form input[name="password"]');
        eq((await page.textContent('#signing-in-as')).trim(), USER_EMAIL, 'signing in as');
        eq(await page.inputValue('form:has(input[name="password"]) input[name="email"]'), USER_EMAIL, 'hidden email');
      }),
    );

    if (gpub) {
      await check("an acme user cannot sign in on globex (users are per tenant)", () =>
        inBrowser(page, async () => {
          await page.goto(globexAuthUrl().url, { waitUntil: 'domcontentloaded' });
          eq(new URL(page.url()).host, hostFor('globex'), 'host');
          await fillLogin(page, USER_EMAIL, USER_PASSWORD);
          await Promise.all([page.waitForEvent('load'), page.click(PASSWORD_SUBMIT)]);
          assert(!isAt(page.url(), REDIRECT_URI), `signed in on globex: ${page.url()}`);
          eq(new URL(page.url()).pathname, '/login', 'path');
          assert(await page.locator('form input[name="password"]').count(), 'no login form after the failed sign-in');
        }),
      );
    }

    // first sign-in
    const first = newAuth();
    const cb1 = await check('browser sign-in (code + PKCE S256) reaches the redirect URI', () =>
      inBrowser(page, async () => (await signIn(page, first.url)).url),
    );
    const params1 = await check('callback carries a code and the same state, no error', async () => {
      const p = pub.callbackParams(requireValue(cb1, 'sign-in'));
      assert(!p.error, `error ${p.error}: ${p.error_description}`);
      assert(p.code, 'no code');
      eq(p.state, first.checks.state, 'state');
      assert(callbackHits.some((h) => h.startsWith('/callback?')), 'callback server saw no request');
      return p;
    });
    await check('callback carries iss = acme issuer (RFC 9207)', async () => {
      eq(requireValue(params1, 'callback').iss, `${ACME}/`, 'iss');
    });
    const ts1 = await check('code exchange; ID token validated by openid-client (iss, aud, nonce, signature)', async () => {
      const ts = await pubLax.callback(REDIRECT_URI, requireValue(params1, 'callback'), first.checks);
      assert(ts.id_token && ts.access_token && ts.refresh_token, `missing token(s): ${Object.keys(ts)}`);
      return ts;
    });
    await check('ID token claims: sub = user id, aud, nonce, auth_time, sid, amr; RS256 with kid', async () => {
      const ts = requireValue(ts1, 'token exchange');
      const c = ts.claims();
      eq(c.iss, `${ACME}/`, 'iss');
      eq(c.sub, USER_ID, 'sub');
      assert([].concat(c.aud).includes(ACME_PUBLIC_ID), `aud ${short(c.aud)}`);
      eq(c.nonce, first.checks.nonce, 'nonce');
      assert(typeof c.auth_time === 'number', 'auth_time missing');
      assert(c.sid, 'sid missing');
      assert(Array.isArray(c.amr) && c.amr.length, `amr ${short(c.amr)}`);
      const h = decodeHeader(ts.id_token);
      eq(h.alg, 'RS256', 'alg');
      assert(h.kid, 'no kid');
    });
    await check('PyJWT and Authlib (Python) accept the ID token (iss with trailing slash, aud = client)', async () => {
      const ts = requireValue(ts1, 'token exchange');
      await python(`${ACME}/`, `${ACME}/.well-known/jwks.json`, ts.id_token, ACME_PUBLIC_ID);
    });
    await check('access token verified with jose against the tenant JWKS (typ at+jwt, iss, sub, claims)', async () => {
      const ts = requireValue(ts1, 'token exchange');
      const { payload } = await verifyAccessToken(ts.access_token, ACME);
      eq(payload.sub, USER_ID, 'sub');
      eq(payload.client_id, ACME_PUBLIC_ID, 'client_id');
      assert(payload.aud, 'aud missing');
      assert(payload.jti, 'jti missing');
      assert(typeof payload.exp === 'number' && typeof payload.iat === 'number', 'exp/iat missing');
      const scopes = String(payload.scope || '').split(' ');
      assert(scopes.includes('openid'), `scope ${short(payload.scope)}`);
    });
    await check('userinfo (acme) returns sub = user id and the email', async () => {
      const ts = requireValue(ts1, 'token exchange');
      const ui = await pub.userinfo(ts);
      eq(ui.sub, USER_ID, 'sub');
      eq(String(ui.email).toLowerCase(), USER_EMAIL.toLowerCase(), 'email');
    });

    // SSO and PKCE while a session exists
    const tsSSO = await check('with a session, prompt=none returns a code without the form (SSO)', () =>
      inBrowser(page, async () => {
        const a = newAuth({ prompt: 'none' });
        const url = await gotoAndExpect(page, a.url, REDIRECT_URI);
        const p = pub.callbackParams(url);
        assert(!p.error, `error ${p.error}: ${p.error_description}`);
        eq(p.state, a.checks.state, 'state');
        const ts = await pubLax.callback(REDIRECT_URI, p, a.checks);
        eq(ts.claims().sub, USER_ID, 'sub');
        return { ts, params: p, checks: a.checks };
      }),
    );
    if (gpub) {
      await check('the acme session is not valid on globex: prompt=none there -> login_required', () =>
        inBrowser(page, async () => {
          const g = globexAuthUrl({ prompt: 'none' });
          const url = await gotoAndExpect(page, g.url, REDIRECT_URI);
          const p = new URL(url).searchParams;
          eq(p.get('error'), 'login_required', `error (url ${url})`);
          assert(!p.get('code'), 'globex issued a code on the acme session');
          eq(p.get('iss'), `${GLOBEX}/`, 'iss');
          eq(p.get('state'), g.state, 'state');
        }),
      );
    }
    // response_mode=web_message as auth0-spa-js's getTokenSilently runs it: a hidden iframe of the app's page,
    // whose message the page accepts from the tenant's origin with type authorization_response.
    const silentInIframe = async (appOrigin, base, extra = {}) => {
      await page.goto(`${appOrigin}/app`, { waitUntil: 'domcontentloaded' });
      const a = newAuth({ prompt: 'none', response_mode: 'web_message', redirect_uri: `${appOrigin}/callback`, ...extra });
      const src = new URL(a.url);
      const u = new URL(`${base}/authorize`);
      u.search = src.search;
      const msg = await page.evaluate(({ src, from }) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no authorization_response message within 10 s')), 10000);
        window.addEventListener('message', (e) => {
          if (e.origin !== from || !e.data || e.data.type !== 'authorization_response') return;
          clearTimeout(timer);
          resolve(e.data);
        });
        const f = document.createElement('iframe');
        f.style.display = 'none';
        f.src = src;
        document.body.appendChild(f);
      }), { src: u.href, from: base });
      return { msg, checks: a.checks };
    };
    await check('web_message in a cross-site iframe (127.0.0.1 app, acme.localhost tenant): login_required by postMessage (SameSite=Lax cookies stay home)', () =>
      inBrowser(page, async () => {
        const { msg, checks } = await silentInIframe(CB_ORIGIN, ACME);
        eq(msg.response.error, 'login_required', `error (${short(msg.response)})`);
        assert(!msg.response.code, 'a code was posted to a cross-site iframe');
        eq(msg.response.state, checks.state, 'state');
        eq(msg.response.iss, `${ACME}/`, 'iss');
      }),
    );
    if (SAME_SITE_APP) {
      const EXTRA = `${SCHEME}://${SAME_SITE_DOMAIN}:${PORT}`;
      const APP = `http://${SAME_SITE_APP}:${CB_PORT}`;
      await check(`web_message in a same-site iframe (${SAME_SITE_APP} app, ${SAME_SITE_DOMAIN} tenant domain): the session cookie goes along, the code comes by postMessage and redeems with a JSON body`, () =>
        inBrowser(page, async () => {
          // A session on the tenant domain the app's iframe will use (cookies are host-only).
          const s = newAuth();
          const su = new URL(`${EXTRA}/authorize`);
          su.search = new URL(s.url).search;
          await signIn(page, su.href, { allowNoForm: true });
          const { msg, checks } = await silentInIframe(APP, EXTRA);
          assert(!msg.response.error, `error ${msg.response.error}: ${msg.response.error_description}`);
          assert(msg.response.code, `no code: ${short(msg.response)}`);
          eq(msg.response.state, checks.state, 'state');
          eq(msg.response.iss, `${EXTRA}/`, 'iss');
          const r = await request('POST', `${EXTRA}/oauth/token`, { json: {
            grant_type: 'authorization_code', client_id: ACME_PUBLIC_ID, code: msg.response.code,
            code_verifier: checks.code_verifier, redirect_uri: `${APP}/callback`,
          } });
          eq(r.status, 200, `token status (body ${short(r.text)})`);
          eq(r.json.token_type, 'Bearer', 'token_type');
          const { payload } = await jose.jwtVerify(r.json.id_token, jose.createLocalJWKSet(await tenantJWKS(EXTRA)), { issuer: `${EXTRA}/`, audience: ACME_PUBLIC_ID });
          eq(payload.nonce, checks.nonce, 'nonce');
        }),
      );
    }
    // (done on the SSO code: RFC 6749 4.1.2 lets the server revoke the tokens of a replayed code)
    await check('an authorization code cannot be redeemed twice -> invalid_grant', async () => {
      const s = requireValue(tsSSO, 'SSO exchange');
      await mustFail(pubLax.callback(REDIRECT_URI, s.params, s.checks), ['invalid_grant'], 'second redemption');
    });
    await check('code exchange with a wrong code_verifier -> invalid_grant', () =>
      inBrowser(page, async () => {
        const a = newAuth({ prompt: 'none' });
        const p = pub.callbackParams(await gotoAndExpect(page, a.url, REDIRECT_URI));
        assert(p.code, `no code: ${short(p)}`);
        await mustFail(pubLax.callback(REDIRECT_URI, p, { ...a.checks, code_verifier: generators.codeVerifier() }), ['invalid_grant'], 'wrong verifier');
      }),
    );
    const noCodeIssued = async (url, what) => {
      const resp = await page.goto(url, { waitUntil: 'domcontentloaded' });
      if (isAt(page.url(), REDIRECT_URI)) {
        const p = new URL(page.url()).searchParams;
        assert(!p.get('code'), `${what}: a code was issued`);
        assert(p.get('error'), `${what}: redirect without error`);
        return p.get('error');
      }
      assert(resp && resp.status() >= 400, `${what}: expected an error, got HTTP ${resp && resp.status()} at ${page.url()}`);
      return `HTTP ${resp.status()}`;
    };
    await check('implicit flow (response_type=token) is refused', () =>
      inBrowser(page, async () => {
        const v = generators.codeVerifier();
        const u = new URL(pub.authorizationUrl({ scope: SCOPE, state: generators.state(), nonce: generators.nonce(), code_challenge: generators.codeChallenge(v), code_challenge_method: 'S256' }));
        u.searchParams.set('response_type', 'token');
        const resp = await page.goto(u.href, { waitUntil: 'domcontentloaded' });
        assert(!/access_token=/.test(page.url()), `access token delivered: ${page.url()}`);
        if (isAt(page.url(), REDIRECT_URI)) {
          const all = new URLSearchParams(new URL(page.url()).search + '&' + new URL(page.url()).hash.slice(1));
          assert(all.get('error'), `redirect without error: ${page.url()}`);
        } else {
          assert(resp && resp.status() >= 400, `HTTP ${resp && resp.status()} at ${page.url()}`);
        }
      }),
    );
    await check('public client without PKCE is refused', () =>
      inBrowser(page, async () => {
        const url = pub.authorizationUrl({ scope: SCOPE, state: generators.state(), nonce: generators.nonce() });
        await noCodeIssued(url, 'no code_challenge');
      }),
    );
    await check('PKCE method plain is refused', () =>
      inBrowser(page, async () => {
        const v = generators.codeVerifier();
        const url = pub.authorizationUrl({ scope: SCOPE, state: generators.state(), nonce: generators.nonce(), code_challenge: v, code_challenge_method: 'plain' });
        await noCodeIssued(url, 'plain');
      }),
    );

    // refresh-token rotation and reuse detection
    const ts2 = await check('refresh: new tokens, new refresh token differs from the old one', async () => {
      const old = requireValue(ts1, 'token exchange');
      const ts = await pub.refresh(old);
      assert(ts.access_token && ts.refresh_token, `missing token(s): ${Object.keys(ts)}`);
      assert(ts.refresh_token !== old.refresh_token, 'refresh token was not rotated');
      const { payload } = await verifyAccessToken(ts.access_token, ACME);
      eq(payload.sub, USER_ID, 'sub of refreshed access token');
      return ts;
    });
    await check('replaying the OLD refresh token -> invalid_grant', async () => {
      requireValue(ts2, 'refresh');
      await mustFail(pub.refresh(requireValue(ts1, 'token exchange').refresh_token), ['invalid_grant'], 'replay');
    });
    await check('after the replay the NEW refresh token fails too (family revoked)', async () => {
      await mustFail(pub.refresh(requireValue(ts2, 'refresh').refresh_token), null, 'refresh with the new token');
    });

    // second sign-in, forced by prompt=login
    const second = newAuth({ prompt: 'login' });
    const si2 = await check('second sign-in with prompt=login reaches the redirect URI', () =>
      inBrowser(page, async () => signIn(page, second.url, { allowNoForm: true })),
    );
    await check('prompt=login showed the login form although a session existed', async () => {
      assert(requireValue(si2, 'second sign-in').sawForm, `no form: the server redirected straight to ${si2.url}`);
    });
    const ts3fresh = await check('second code exchange', async () => {
      const p = pub.callbackParams(requireValue(si2, 'second sign-in').url);
      assert(!p.error, `error ${p.error}: ${p.error_description}`);
      eq(p.state, second.checks.state, 'state');
      const ts = await pubLax.callback(REDIRECT_URI, p, second.checks);
      eq(ts.claims().sub, USER_ID, 'sub');
      return ts;
    });
    // below: the second sign-in's tokens, or (if it failed) the SSO ones, so one defect hides less
    const ts3 = ts3fresh || (tsSSO && tsSSO.ts);

    // the sign-in flow in a real browser: refresh, back, two tabs
    const expiredPage = async (p, what) => {
      const h1 = (await p.locator('h1').first().textContent({ timeout: 15000 }).catch(() => '')) || '';
      assert(/sign-in link has expired/i.test(h1), `${what}: not the expired page (h1 ${short(h1)}) at ${p.url()}`);
    };
    await check('sign-in flow: a refresh of the sign-in page keeps the flow; after completion, back shows the expired page', () =>
      inBrowser(page, async () => {
        const a = newAuth({ prompt: 'login' });
        await page.goto(a.url, { waitUntil: 'domcontentloaded' });
        const loginUrl = page.url();
        const flow = new URL(loginUrl).searchParams.get('state');
        assert(/^flw_/.test(flow || ''), `not at a flow's sign-in page: ${loginUrl}`);
        await page.reload({ waitUntil: 'domcontentloaded' });
        eq(page.url(), loginUrl, 'URL after a refresh');
        eq(await page.inputValue('form input[name="state"]'), flow, 'flow id after a refresh');
        await fillLogin(page, USER_EMAIL, USER_PASSWORD);
        const waiter = page.waitForURL((u) => isAt(u.href, REDIRECT_URI), { timeout: 15000, waitUntil: 'commit' });
        await page.click(PASSWORD_SUBMIT);
        await waiter;
        const p = pub.callbackParams(page.url());
        assert(p.code && !p.error, `callback ${short(page.url())}`);
        eq(p.state, a.checks.state, 'state');
        await pubLax.callback(REDIRECT_URI, p, a.checks);
        await goBack(page);
        assert(!isAt(page.url(), REDIRECT_URI), `back stayed at the redirect URI: ${page.url()}`);
        await expiredPage(page, 'back after completion');
        // Its link starts the same request again: prompt=login asks again, in a new flow.
        await Promise.all([page.waitForURL((u) => new URL(u.href).pathname === '/login', { timeout: 15000 }), page.click('a:has-text("Sign in again")')]);
        const again = new URL(page.url()).searchParams.get('state');
        assert(/^flw_/.test(again || '') && again !== flow, `restart did not start a new flow: ${page.url()}`);
      }),
    );
    await check('sign-in flow: two tabs of one browser are two flows, each completing with its own state', () =>
      inBrowser(page, async () => {
        const tab2 = await context.newPage();
        try {
          const a = newAuth({ prompt: 'login' });
          const b = newAuth({ prompt: 'login' });
          await page.goto(a.url, { waitUntil: 'domcontentloaded' });
          await tab2.goto(b.url, { waitUntil: 'domcontentloaded' });
          const fa = new URL(page.url()).searchParams.get('state');
          const fb = new URL(tab2.url()).searchParams.get('state');
          assert(/^flw_/.test(fa || '') && /^flw_/.test(fb || '') && fa !== fb, `flows ${fa} and ${fb}`);
          const finish = async (p, req) => {
            await fillLogin(p, USER_EMAIL, USER_PASSWORD);
            const waiter = p.waitForURL((u) => isAt(u.href, REDIRECT_URI), { timeout: 15000, waitUntil: 'commit' });
            await p.click(PASSWORD_SUBMIT);
            await waiter;
            const params = pub.callbackParams(p.url());
            eq(params.state, req.checks.state, 'state of the tab');
            return (await pubLax.callback(REDIRECT_URI, params, req.checks)).claims().sub;
          };
          eq(await finish(tab2, b), USER_ID, 'sub of the second tab');
          eq(await finish(page, a), USER_ID, 'sub of the first tab');
        } finally {
          await tab2.close().catch(() => {});
        }
      }),
    );

    // introspection, cross-tenant, revocation
    await check('introspection by the acme confidential client: active, sub, client_id', async () => {
      const r = await conf.introspect(requireValue(ts3, 'second exchange').access_token, 'access_token');
      eq(r.active, true, 'active');
      eq(r.sub, USER_ID, 'sub');
      eq(r.client_id, ACME_PUBLIC_ID, 'client_id');
    });
    await check('introspection without client authentication is refused (401)', async () => {
      const r = await request('POST', `${ACME}/oauth/introspect`, { form: { token: requireValue(ts3, 'second exchange').access_token } });
      eq(r.status, 401, `status (body ${short(r.text)})`);
    });
    await check('cross-tenant: acme token introspected by a globex client -> active=false', async () => {
      const gIss = requireValue(globexIssuer, 'globex discovery');
      const gconf = new gIss.Client({ client_id: GLOBEX_CONF_ID, client_secret: GLOBEX_CONF_SECRET, token_endpoint_auth_method: 'client_secret_basic' });
      const r = await gconf.introspect(requireValue(ts3, 'second exchange').access_token, 'access_token');
      eq(r.active, false, `active (response ${short(r)})`);
    });
    await check('cross-tenant: acme token on globex /userinfo -> 401', async () => {
      const r = await request('GET', `${GLOBEX}/userinfo`, { bearer: requireValue(ts3, 'second exchange').access_token });
      eq(r.status, 401, `status (body ${short(r.text)})`);
    });
    await check('cross-tenant: acme refresh token on globex /oauth/token is refused', async () => {
      const ts = requireValue(ts3, 'second exchange');
      const r = await request('POST', `${GLOBEX}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: ts.refresh_token, client_id: ACME_PUBLIC_ID } });
      assert(r.status >= 400 && r.status < 500, `status ${r.status} (body ${short(r.text)})`);
      assert(!(r.json && r.json.access_token), 'globex issued tokens for an acme refresh token');
    });
    await check('acme /userinfo still accepts the token (GET and POST)', async () => {
      const at = requireValue(ts3, 'second exchange').access_token;
      const g = await request('GET', `${ACME}/userinfo`, { bearer: at });
      eq(g.status, 200, 'GET status');
      eq(g.json && g.json.sub, USER_ID, 'GET sub');
      const p = await request('POST', `${ACME}/userinfo`, { bearer: at });
      eq(p.status, 200, 'POST status');
    });
    await check('revoke the access token (RFC 7009) -> 200', async () => {
      await pub.revoke(requireValue(ts3, 'second exchange').access_token, 'access_token');
    });
    await check('introspection after revocation -> active=false', async () => {
      const r = await conf.introspect(requireValue(ts3, 'second exchange').access_token, 'access_token');
      eq(r.active, false, 'active');
    });
    await check('userinfo with the revoked access token -> 401', async () => {
      const r = await request('GET', `${ACME}/userinfo`, { bearer: requireValue(ts3, 'second exchange').access_token });
      eq(r.status, 401, `status (body ${short(r.text)})`);
    });

    // RP-initiated logout
    await check('RP-initiated logout ends at the registered post-logout URI with state', () =>
      inBrowser(page, async () => {
        const ts = requireValue(ts3, 'second exchange');
        const state = generators.state();
        const u = new URL(`${ACME}/oidc/logout`);
        u.searchParams.set('id_token_hint', ts.id_token);
        u.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_URI);
        u.searchParams.set('state', state);
        const url = await gotoAndExpect(page, u.href, POST_LOGOUT_URI);
        eq(new URL(url).searchParams.get('state'), state, 'state');
      }),
    );
    await check('after logout, prompt=none -> error=login_required (with state, iss)', () =>
      inBrowser(page, async () => {
        const a = newAuth({ prompt: 'none' });
        const url = await gotoAndExpect(page, a.url, REDIRECT_URI);
        const p = new URL(url).searchParams;
        eq(p.get('error'), 'login_required', 'error');
        assert(!p.get('code'), 'a code was issued');
        eq(p.get('state'), a.checks.state, 'state');
        eq(p.get('iss'), `${ACME}/`, 'iss');
      }),
    );
    await check('logout with an unregistered post_logout_redirect_uri does not redirect there', () =>
      inBrowser(page, async () => {
        const before = callbackHits.length;
        const u = new URL(`${ACME}/oidc/logout`);
        u.searchParams.set('post_logout_redirect_uri', EVIL_URI);
        u.searchParams.set('client_id', ACME_PUBLIC_ID);
        await page.goto(u.href, { waitUntil: 'domcontentloaded' });
        assert(!page.url().startsWith(EVIL_URI), `redirected to ${page.url()}`);
        assert(!callbackHits.slice(before).some((h) => h.startsWith('/evil')), 'the unregistered URI was hit');
      }),
    );

    await check('/v2/logout (Auth0) with client_id and returnTo signs a signed-in user out at once and ends at the post-logout URI', () =>
      inBrowser(page, async () => {
        await signIn(page, newAuth().url);
        const u = new URL(`${ACME}/v2/logout`);
        u.searchParams.set('client_id', ACME_PUBLIC_ID);
        u.searchParams.set('returnTo', POST_LOGOUT_URI);
        const resp = await request('GET', u.href); // no cookie: the redirect itself
        eq(resp.status, 302, 'status');
        eq(resp.headers.location, POST_LOGOUT_URI, 'Location');
        await gotoAndExpect(page, u.href, POST_LOGOUT_URI);
        const a = newAuth({ prompt: 'none' });
        const p = new URL(await gotoAndExpect(page, a.url, REDIRECT_URI)).searchParams;
        eq(p.get('error'), 'login_required', 'prompt=none after /v2/logout');
      }),
    );
    await check('/v2/logout with an unregistered returnTo -> 400 page, no redirect', async () => {
      const u = new URL(`${ACME}/v2/logout`);
      u.searchParams.set('client_id', ACME_PUBLIC_ID);
      u.searchParams.set('returnTo', EVIL_URI);
      const r = await request('GET', u.href);
      eq(r.status, 400, 'status');
      assert(!r.headers.location, `Location ${r.headers.location}`);
    });

    // error pages, never redirects, for bad requests
    await check('bad redirect_uri -> error page on the server, no redirect', () =>
      inBrowser(page, async () => {
        const before = callbackHits.length;
        const a = newAuth({ redirect_uri: EVIL_URI });
        const resp = await page.goto(a.url, { waitUntil: 'domcontentloaded' });
        const at = new URL(page.url());
        eq(at.host, hostFor('acme'), 'host of the final page');
        assert(resp && resp.status() >= 400 && resp.status() < 500, `HTTP ${resp && resp.status()}`);
        assert(!callbackHits.slice(before).some((h) => h.startsWith('/evil')), 'the bad redirect_uri was hit');
      }),
    );
    await check('bad redirect_uri (no browser): 4xx, no Location header', async () => {
      const a = newAuth({ redirect_uri: EVIL_URI });
      const r = await request('GET', a.url);
      assert(r.status >= 400 && r.status < 500, `status ${r.status} Location ${r.headers.location}`);
      assert(!r.headers.location, `Location ${r.headers.location}`);
    });
    await check('unknown client_id -> 4xx error page, no redirect', async () => {
      const u = new URL(newAuth().url);
      u.searchParams.set('client_id', 'cli_does_not_exist');
      const r = await request('GET', u.href);
      assert(r.status >= 400 && r.status < 500, `status ${r.status} Location ${r.headers.location}`);
      assert(!r.headers.location, `Location ${r.headers.location}`);
    });
    await check('acme public client on globex /authorize -> 4xx, no redirect', async () => {
      const u = new URL(newAuth().url);
      const g = new URL(`${GLOBEX}/authorize`);
      g.search = u.search;
      const r = await request('GET', g.href);
      assert(r.status >= 400 && r.status < 500, `status ${r.status} Location ${r.headers.location}`);
      assert(!r.headers.location, `Location ${r.headers.location}`);
    });

    // last, because it blocks this IP for this account for an hour (10 failures in a row, the default)
    await check('repeated wrong passwords -> 429 with Retry-After (then even the right password is refused)', () =>
      inBrowser(page, async () => {
        const submit = async (password) => {
          await page.goto(newAuth().url, { waitUntil: 'domcontentloaded' });
          await fillLogin(page, USER_EMAIL, password);
          const [resp] = await Promise.all([
            page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
            page.click(PASSWORD_SUBMIT),
          ]);
          await page.waitForLoadState('domcontentloaded');
          return resp;
        };
        const statuses = [];
        let limited;
        for (let i = 0; i < 11 && !limited; i++) {
          const resp = await submit(USER_PASSWORD + '-wrong');
          statuses.push(resp.status());
          if (resp.status() === 429) limited = resp;
        }
        assert(limited, `no 429 after ${statuses.length} more failures (statuses ${statuses.join(',')})`);
        const ra = await limited.headerValue('retry-after');
        assert(ra && /^\d+$/.test(ra.trim()) && Number(ra) > 0, `Retry-After ${short(ra)}`);
        const right = await submit(USER_PASSWORD);
        eq(right.status(), 429, 'status of the right password while locked');
        assert(!isAt(page.url(), REDIRECT_URI), 'signed in while locked');
      }),
    );
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }

  console.log(`== done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

run(main, () => callbackServer.close());
