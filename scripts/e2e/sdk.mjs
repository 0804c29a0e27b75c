// End-to-end test of a RUNNING Authio server with the real browser SDKs, unmodified from npm:
// @auth0/auth0-spa-js, @auth0/auth0-react (with React) and oidc-client-ts, each in a page that this
// script serves from its own origin, app.<E2E_SDK_DOMAIN>:<E2E_APP_PORT>, while the tenants answer on
// acme.<E2E_SDK_DOMAIN> and globex.<E2E_SDK_DOMAIN> (port E2E_PORT). The domain, sdk.localhost by default,
// is chosen so that:
//   - app and tenants are ONE site for cookies: "localhost" is no public suffix, so a name's site is its
//     last two labels (sdk.localhost), and the hidden iframes of silent authentication carry the tenant's
//     SameSite=Lax session. (app.localhost and acme.localhost would be two sites, and every iframe would
//     answer login_required.)
//   - Chromium resolves *.localhost to loopback and treats it as a secure context (the SDKs need
//     crypto.subtle) without flags, and Authio accepts http redirect URIs on localhost names only.
// The pages (sdk-app/) are bundled with esbuild into a temporary directory at the start of the run.
//
// Started by scripts/e2e.sh (run_sdk), which creates the tenants, organizations, user and clients with the
// CLI and writes them to the JSON file named by E2E_SDK_SETUP:
//   { api, password, tenants: {acme, globex}, orgs: {northwind, contoso}: {id, name},
//     users: {alice, other}: {id, email},
//     clients: {spa, react, oidc, globex_spa, globex_oidc} }
//
//   E2E_PORT            port Authio listens on (127.0.0.1)
//   E2E_APP_PORT        port of the app server this script runs on 127.0.0.1
//   E2E_SDK_SETUP       the setup file above
//   E2E_SDK_DOMAIN      (default sdk.localhost) the domain of the tenants and the app
//   E2E_LABEL, E2E_CHROMIUM, E2E_TIMEOUT_SECONDS, E2E_KEEP (keeps the bundle directory)   as in e2e.mjs
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';
import * as jose from 'jose';
import { chromium } from 'playwright-core';

import {
  configure, need, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, requireValue, short, isAt, inBrowser, run, fillPasswordSignIn, PASSWORD_SUBMIT,
} from './harness.mjs';

// ---------------------------------------------------------------- configuration

const PORT = need('E2E_PORT');
const APP_PORT = need('E2E_APP_PORT');
const SETUP = JSON.parse(fs.readFileSync(need('E2E_SDK_SETUP'), 'utf8'));
const DOMAIN = (process.env.E2E_SDK_DOMAIN || 'sdk.localhost').toLowerCase();
const hostOf = (name) => `${name}.${DOMAIN}`;
configure({ name: 'sdk' });

// The SDKs' `domain`: the scheme is part of the value, since nothing here speaks https. Issuer = base + '/'.
const ACME = `http://${hostOf('acme')}:${PORT}`;
const GLOBEX = `http://${hostOf('globex')}:${PORT}`;
const APP = `http://${hostOf('app')}:${APP_PORT}`;
const SPA_PAGE = `${APP}/spa.html`;
const REACT_PAGE = `${APP}/react.html`;
const OIDC_PAGE = `${APP}/oidc.html`;
const LOGGED_OUT = `${APP}/logged-out.html`;

const { api: API, password: PASSWORD, orgs: ORGS, users: USERS, clients: CLIENTS } = SETUP;
const ALICE = USERS.alice;
const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sdk-app');
const EXCHANGE_AT = 'urn:ietf:params:oauth:token-type:access_token';
const CHECK_SESSION_BUDGET_MS = 10000; // auth0-spa-js waits 60 s for an iframe answer that never comes

// ---------------------------------------------------------------- the app server

let bundleDir = '';

const page = (title, script, body = '<p id="status">loading</p>') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}` +
  `<script src="/config.js"></script><script src="${script}"></script></body></html>`;

const PAGES = {
  '/spa.html': page('auth0-spa-js', '/spa.js'),
  '/react.html': page('auth0-react', '/react.js', '<div id="root"></div>'),
  '/oidc.html': page('oidc-client-ts', '/oidc.js'),
  '/oidc-silent.html': page('oidc-client-ts silent callback', '/oidc.js'),
  '/logged-out.html': '<!doctype html><html><head><meta charset="utf-8"><title>signed out</title></head><body><p id="status">signed out</p></body></html>',
};

const CONFIG = {
  app: APP,
  api: API,
  tenants: { acme: { domain: ACME, issuer: `${ACME}/` }, globex: { domain: GLOBEX, issuer: `${GLOBEX}/` } },
  clients: { spa: CLIENTS.spa, react: CLIENTS.react, oidc: { acme: CLIENTS.oidc, globex: CLIENTS.globex_oidc } },
};

const appServer = http.createServer((req, res) => {
  const p = new URL(req.url, APP).pathname;
  const send = (type, body) => {
    res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  if (PAGES[p]) return send('text/html', PAGES[p]);
  if (p === '/config.js') return send('text/javascript', `window.SDK_CONFIG = ${JSON.stringify(CONFIG)};`);
  const m = /^\/(spa|react|oidc)\.js$/.exec(p);
  if (m && bundleDir) return send('text/javascript', fs.readFileSync(path.join(bundleDir, `${m[1]}.js`)));
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});

async function bundle() {
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authio-sdk-app-'));
  await esbuild.build({
    entryPoints: { spa: path.join(SRC, 'spa.js'), react: path.join(SRC, 'react.jsx'), oidc: path.join(SRC, 'oidc.js') },
    outdir: bundleDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
}

// ---------------------------------------------------------------- browser helpers

// watch records every request of a browser context (pages, iframes, fetches) with the redirect that led to it.
function watch(ctx) {
  const log = [];
  ctx.on('request', (r) => {
    const from = r.redirectedFrom();
    log.push({
      url: r.url(),
      method: r.method(),
      body: r.postData() || '',
      type: r.headers()['content-type'] || '',
      from: from ? from.url() : '',
    });
  });
  return { mark: () => log.length, since: (m) => log.slice(m) };
}

const authorizeRequests = (reqs, base) =>
  reqs.filter((r) => r.url.startsWith(`${base}/authorize?`)).map((r) => new URL(r.url).searchParams);

const tokenRequests = (reqs, base) =>
  reqs
    .filter((r) => r.method === 'POST' && r.url === `${base}/oauth/token`)
    .map((r) => ({ json: r.type.startsWith('application/json'), params: bodyParams(r) }));

function bodyParams(r) {
  if (r.type.startsWith('application/json')) {
    try {
      return JSON.parse(r.body);
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(r.body));
}

// expectWebMessage checks that reqs hold exactly n prompt=none web_message authorization requests to base.
function expectWebMessage(reqs, base, n, what) {
  const a = authorizeRequests(reqs, base);
  eq(a.length, n, `${what}: /authorize requests`);
  for (const q of a) {
    eq(q.get('response_mode'), 'web_message', `${what}: response_mode`);
    eq(q.get('prompt'), 'none', `${what}: prompt`);
  }
  return a;
}

// evaluate on a page under the harness's failure report (URL and text of the page join the message)
const inPage = (pg, fn, arg) => inBrowser(pg, () => pg.evaluate(fn, arg));

// spa(pg, name, method, ...args): a method of the named Auth0Client in the spa page; throws on an SDK error
async function spa(pg, name, method, ...args) {
  return value(await spaTry(pg, name, method, ...args), `${name}.${method}`);
}
// spaTry: the same, returning the { ok, value } or { ok: false, error, ... } envelope
const spaTry = (pg, name, method, ...args) =>
  inPage(pg, ([n, m, a]) => window.sdk.call(n, m, ...a), [name, method, args]);
// spaCallback: handleRedirectCallback, then the URL without the response, as apps do
async function spaCallback(pg, name) {
  const r = await spa(pg, name, 'handleRedirectCallback');
  await inPage(pg, () => window.history.replaceState(null, '', window.location.pathname));
  return r;
}
const spaCreate = (pg, name, options, opts = {}) =>
  inPage(pg, ([n, o, c]) => window.sdk.create(n, o, c), [name, options, opts]).then((r) => value(r, `create ${name}`));
const spaStart = (pg, name, method, ...args) =>
  inPage(pg, ([n, m, a]) => window.sdk.start(n, m, ...a), [name, method, args]);

const oidc = async (pg, tenant, method, ...args) => value(await oidcTry(pg, tenant, method, ...args), `${tenant}.${method}`);
const oidcTry = (pg, tenant, method, ...args) =>
  inPage(pg, ([t, m, a]) => window.oidcApp.call(t, m, ...a), [tenant, method, args]);
const oidcStart = (pg, tenant, method, ...args) =>
  inPage(pg, ([t, m, a]) => window.oidcApp.start(t, m, ...a), [tenant, method, args]);

function value(r, what) {
  if (!r || !r.ok) {
    throw new Error(`${what} failed: ${r ? `${r.error || r.type} ${r.error_description || ''} (${r.message})` : 'no answer'}`);
  }
  return r.value;
}

function expectError(r, codes, what) {
  if (r.ok) throw new Error(`${what}: expected an error, the SDK answered ${short(r.value)}`);
  if (!codes.includes(r.error)) {
    throw new Error(`${what}: expected error ${codes.join('|')}, got ${r.error || r.type} ${r.error_description} (${r.message})`);
  }
}

async function openPage(pg, url, ready) {
  await inBrowser(pg, async () => {
    await pg.goto(url, { waitUntil: 'domcontentloaded' });
    await pg.waitForFunction(ready);
  });
}

// completeSignIn follows a redirect sign-in started in pg: fills the tenant's login form when it shows (form:
// true requires it, false forbids it, undefined takes either) and returns once the browser is back at `back`.
async function completeSignIn(pg, base, back, { form, email = ALICE.email } = {}) {
  return inBrowser(pg, async () => {
    const login = `${base}/login`;
    // back with the authorization response (the page the sign-in started from has the same path)
    const answered = (u) => isAt(u.href, back) && (u.searchParams.has('code') || u.searchParams.has('error'));
    await pg.waitForURL((u) => isAt(u.href, login) || answered(u), { waitUntil: 'commit' });
    const sawForm = isAt(pg.url(), login);
    if (form === true && !sawForm) throw new Error(`expected the login form of ${base}, the server redirected straight back to ${pg.url()}`);
    if (form === false && sawForm) throw new Error(`expected no login form (the session signs in), got ${pg.url()}`);
    if (sawForm) {
      await fillPasswordSignIn(pg, email, PASSWORD);
      const waiter = pg.waitForURL(answered, { waitUntil: 'commit' });
      await pg.click(PASSWORD_SUBMIT);
      await waiter;
    }
    await pg.waitForLoadState('domcontentloaded');
    return sawForm;
  });
}

// textOf waits (up to 15 s) for an element whose text satisfies pred, and returns the text
async function textOf(pg, selector, pred, what) {
  return inBrowser(pg, async () => {
    const end = Date.now() + 15000;
    let t = null;
    while (Date.now() < end) {
      t = await pg.textContent(selector, { timeout: 1000 }).catch(() => null);
      if (t !== null && pred(t)) return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: ${selector} is ${short(t)}`);
  });
}

// ---------------------------------------------------------------- token helpers

const claims = (jwt) => jose.decodeJwt(requireValue(jwt, 'a JWT'));

async function verifyAccessToken(at, base) {
  const r = await request('GET', `${base}/.well-known/jwks.json`);
  eq(r.status, 200, 'JWKS status');
  const { payload } = await jose.jwtVerify(at, jose.createLocalJWKSet(r.json), {
    issuer: `${base}/`,
    typ: 'at+jwt',
    algorithms: ['RS256'],
    clockTolerance: 5,
  });
  return payload;
}

// ---------------------------------------------------------------- scenario

async function main() {
  const t0 = Date.now();
  console.log(`== Authio browser SDKs ${LABEL ? `[${LABEL}] ` : ''}tenants ${ACME}, ${GLOBEX}; app ${APP}`);

  await new Promise((resolve, reject) => {
    appServer.once('error', reject);
    appServer.listen(Number(APP_PORT), '127.0.0.1', resolve);
  });

  const built = await check('esbuild bundles the pages: auth0-spa-js, auth0-react + React, oidc-client-ts', async () => {
    await bundle();
    for (const f of ['spa.js', 'react.js', 'oidc.js']) assert(fs.statSync(path.join(bundleDir, f)).size > 1000, `${f} is empty`);
    return true;
  });
  if (!built) return;

  await check(`discovery on acme.${DOMAIN}: issuer with the trailing slash, response mode web_message`, async () => {
    const r = await request('GET', `${ACME}/.well-known/openid-configuration`);
    eq(r.status, 200, `status (${short(r.text)})`);
    eq(r.json.issuer, `${ACME}/`, 'issuer');
    assert((r.json.response_modes_supported || []).includes('web_message'), `response_modes_supported: ${short(r.json.response_modes_supported)}`);
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const newPage = async () => {
    const ctx = await browser.newContext();
    const pg = await ctx.newPage();
    pg.setDefaultTimeout(15000);
    return { pg, net: watch(ctx), ctx };
  };

  try {
    await spaSuite(newPage);
    await reactSuite(newPage);
    await oidcSuite(newPage);
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(`== done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// ---- @auth0/auth0-spa-js

async function spaSuite(newPage) {
  const { pg, net } = await newPage();
  const base = {
    domain: ACME,
    clientId: CLIENTS.spa,
    cacheLocation: 'memory',
    authorizeTimeoutInSeconds: 10,
    authorizationParams: { redirect_uri: SPA_PAGE, audience: API },
  };
  const withOrg = (organization) => ({ ...base, authorizationParams: { ...base.authorizationParams, organization } });
  const ready = () => !!window.sdk;
  const S = {}; // what later checks build on

  await check('auth0-spa-js: createAuth0Client({ domain: "http://acme…:port" }) in a fresh browser: not signed in', async () => {
    await openPage(pg, SPA_PAGE, ready);
    await spaCreate(pg, 'a', base, { checkSession: true });
    eq(await spa(pg, 'a', 'isAuthenticated'), false, 'isAuthenticated');
  });

  S.login = await check('auth0-spa-js: loginWithRedirect -> hosted sign-in -> handleRedirectCallback; user and ID token (iss with slash)', async () => {
    const m = net.mark();
    await spaStart(pg, 'a', 'loginWithRedirect');
    await completeSignIn(pg, ACME, SPA_PAGE, { form: true });
    await openPage(pg, pg.url(), ready);
    await spaCreate(pg, 'a', base);
    await spaCallback(pg, 'a');
    const user = await spa(pg, 'a', 'getUser');
    eq(user && user.email, ALICE.email, 'getUser().email');
    eq(user.sub, ALICE.id, 'getUser().sub');
    const idc = await spa(pg, 'a', 'getIdTokenClaims');
    eq(idc.iss, `${ACME}/`, 'ID token iss');
    assert([].concat(idc.aud).includes(CLIENTS.spa), `ID token aud ${short(idc.aud)} lacks the client`);
    assert(idc.sid, 'ID token has no sid');
    const tr = tokenRequests(net.since(m), ACME);
    eq(tr.length, 1, 'token requests');
    eq(tr[0].params.grant_type, 'authorization_code', 'grant_type');
    const at = await spa(pg, 'a', 'getTokenSilently');
    const p = await verifyAccessToken(at, ACME);
    eq(p.sub, ALICE.id, 'access token sub');
    assert([].concat(p.aud).includes(API), `access token aud ${short(p.aud)} lacks ${API}`);
    return { sid: idc.sid, auth_time: idc.auth_time, at };
  });

  await check('auth0-spa-js: getTokenSilently (cacheMode off) through the hidden iframe: web_message, prompt=none', async () => {
    const { sid, at: before } = requireValue(S.login, 'signed in');
    const m = net.mark();
    const r = await spa(pg, 'a', 'getTokenSilently', { cacheMode: 'off', detailedResponse: true });
    expectWebMessage(net.since(m), ACME, 1, 'getTokenSilently');
    assert(r.access_token && r.access_token !== before, 'no new access token');
    eq(claims(r.id_token).sid, sid, 'sid of the new ID token');
    eq((await verifyAccessToken(r.access_token, ACME)).sub, ALICE.id, 'access token sub');
  });

  await check(`auth0-spa-js: after a page reload createAuth0Client's checkSession restores the user within ${CHECK_SESSION_BUDGET_MS / 1000} s`, async () => {
    await openPage(pg, SPA_PAGE, ready);
    const m = net.mark();
    const { ms } = await spaCreate(pg, 'a', base, { checkSession: true });
    assert(ms < CHECK_SESSION_BUDGET_MS, `checkSession took ${ms} ms`);
    expectWebMessage(net.since(m), ACME, 1, 'checkSession');
    eq(await spa(pg, 'a', 'isAuthenticated'), true, 'isAuthenticated');
    eq((await spa(pg, 'a', 'getUser')).email, ALICE.email, 'getUser().email');
    console.log(`     (checkSession took ${ms} ms)`);
  });

  // organization at sign-in: the session signs in again without the form; the SDK checks org_id / org_name
  const orgLogin = async (organization, org, what) => {
    const { sid } = requireValue(S.login, 'signed in');
    await spaCreate(pg, 'a', base);
    await spaStart(pg, 'a', 'loginWithRedirect', { authorizationParams: { organization } });
    await completeSignIn(pg, ACME, SPA_PAGE);
    await openPage(pg, pg.url(), ready);
    await spaCreate(pg, 'a', base);
    await spaCallback(pg, 'a');
    const idc = await spa(pg, 'a', 'getIdTokenClaims');
    eq(idc.org_id, org.id, `${what}: ID token org_id`);
    eq(idc.org_name, org.name, `${what}: ID token org_name`);
    eq(idc.sid, sid, `${what}: sid (same session)`);
    const at = await spa(pg, 'a', 'getTokenSilently');
    eq(claims(at).org_id, org.id, `${what}: access token org_id`);
    return { at, idc };
  };
  await check('auth0-spa-js: loginWithRedirect with organization = id -> org_id in ID and access tokens', () =>
    orgLogin(ORGS.northwind.id, ORGS.northwind, 'by id'));
  const byName = await check('auth0-spa-js: loginWithRedirect with organization = name -> org_name checked by the SDK', () =>
    orgLogin(ORGS.contoso.name, ORGS.contoso, 'by name'));

  await check('auth0-spa-js: exchangeToken (RFC 8693) switches to another organization: ID token with the same sid and auth_time', async () => {
    const { sid, auth_time } = requireValue(S.login, 'signed in');
    const { at } = requireValue(byName, 'signed in to contoso');
    const m = net.mark();
    const r = await spa(pg, 'a', 'exchangeToken', {
      subject_token: at,
      subject_token_type: EXCHANGE_AT,
      organization: ORGS.northwind.id,
    });
    const tr = tokenRequests(net.since(m), ACME);
    eq(tr.length, 1, 'token requests');
    eq(tr[0].params.grant_type, 'urn:ietf:params:oauth:grant-type:token-exchange', 'grant_type');
    const idc = claims(r.id_token);
    eq(idc.org_id, ORGS.northwind.id, 'ID token org_id');
    eq(idc.sid, sid, 'ID token sid');
    eq(idc.auth_time, auth_time, 'ID token auth_time');
    eq(claims(r.access_token).org_id, ORGS.northwind.id, 'access token org_id');
    eq((await spa(pg, 'a', 'getIdTokenClaims')).org_id, ORGS.northwind.id, 'the SDK now holds the northwind ID token: org_id');
  });

  await check('auth0-spa-js: useRefreshTokens (offline_access, JSON bodies): getTokenSilently refreshes at /oauth/token, no iframe', async () => {
    const opts = { ...base, useRefreshTokens: true, useFormData: false };
    await spaCreate(pg, 'r', opts);
    const m0 = net.mark();
    await spaStart(pg, 'r', 'loginWithRedirect');
    await completeSignIn(pg, ACME, SPA_PAGE);
    await openPage(pg, pg.url(), ready);
    await spaCreate(pg, 'r', opts);
    await spaCallback(pg, 'r');
    const a = authorizeRequests(net.since(m0), ACME);
    assert(a.length === 1 && a[0].get('scope').split(' ').includes('offline_access'), 'the sign-in did not ask for offline_access');
    const code = tokenRequests(net.since(m0), ACME);
    assert(code.length === 1 && code[0].json, `the code exchange was not a JSON request (${short(code)})`);
    let prev = await spa(pg, 'r', 'getTokenSilently');
    for (let i = 1; i <= 2; i++) {
      const m = net.mark();
      const at = await spa(pg, 'r', 'getTokenSilently', { cacheMode: 'off' });
      const reqs = net.since(m);
      eq(authorizeRequests(reqs, ACME).length, 0, `refresh ${i}: /authorize requests`);
      const tr = tokenRequests(reqs, ACME);
      eq(tr.length, 1, `refresh ${i}: token requests`);
      eq(tr[0].json, true, `refresh ${i}: JSON body`);
      eq(tr[0].params.grant_type, 'refresh_token', `refresh ${i}: grant_type`);
      assert(at !== prev, `refresh ${i}: same access token`);
      eq(claims(at).sub, ALICE.id, `refresh ${i}: sub`);
      prev = at;
    }
  });

  await check('auth0-spa-js: one Auth0Client per organization, each with its own memory cache, both silent through the iframe', async () => {
    await openPage(pg, SPA_PAGE, ready);
    await spaCreate(pg, 'north', withOrg(ORGS.northwind.id));
    await spaCreate(pg, 'contoso', withOrg(ORGS.contoso.id));
    const m = net.mark();
    const [n, c] = await Promise.all([spa(pg, 'north', 'getTokenSilently'), spa(pg, 'contoso', 'getTokenSilently')]);
    const a = expectWebMessage(net.since(m), ACME, 2, 'two clients');
    eq(a.map((q) => q.get('organization')).sort().join(' '), [ORGS.northwind.id, ORGS.contoso.id].sort().join(' '), 'organization parameters');
    eq(claims(n).org_id, ORGS.northwind.id, 'northwind client: org_id');
    eq(claims(c).org_id, ORGS.contoso.id, 'contoso client: org_id');
    const m2 = net.mark();
    eq(await spa(pg, 'north', 'getTokenSilently'), n, 'northwind client: cached token');
    eq(await spa(pg, 'contoso', 'getTokenSilently'), c, 'contoso client: cached token');
    eq(net.since(m2).filter((r) => r.url.startsWith(ACME)).length, 0, 'requests to the tenant for cached tokens');
  });

  await check(`auth0-spa-js on an unregistered origin of the same site (evil.${DOMAIN}) gets no answer from the iframe`, async () => {
    // the app's registered redirect_uri, so the tenant answers; the message is addressed to the app's origin
    // and the frame may only be embedded there, so the SDK in this page hears nothing and times out (had the
    // message reached it, it would fail otherwise: at the token endpoint, which does not allow this origin)
    const evil = await pg.context().newPage();
    try {
      await openPage(evil, `http://${hostOf('evil')}:${APP_PORT}/spa.html`, ready);
      await spaCreate(evil, 'e', { ...base, authorizeTimeoutInSeconds: 3 });
      expectError(await spaTry(evil, 'e', 'getTokenSilently', { cacheMode: 'off' }), ['timeout'], 'getTokenSilently');
    } finally {
      await evil.close();
    }
  });

  // cross-tenant: alice's acme session and tokens get nothing on globex
  await check(`cross-tenant: auth0-spa-js on globex.${DOMAIN} with an acme session -> login_required (web_message)`, async () => {
    await spaCreate(pg, 'g', { ...base, domain: GLOBEX, clientId: CLIENTS.globex_spa, authorizationParams: { redirect_uri: SPA_PAGE } });
    const m = net.mark();
    expectError(await spaTry(pg, 'g', 'getTokenSilently'), ['login_required'], 'getTokenSilently on globex');
    expectWebMessage(net.since(m), GLOBEX, 1, 'globex');
  });
  await check('cross-tenant: exchangeToken on globex with an acme access token -> refused, nothing issued', async () => {
    const { at } = requireValue(S.login, 'signed in');
    const r = await spaTry(pg, 'g', 'exchangeToken', { subject_token: at, subject_token_type: EXCHANGE_AT });
    expectError(r, ['invalid_request'], 'exchange on globex');
    eq(await spa(pg, 'g', 'isAuthenticated'), false, 'globex client isAuthenticated');
  });
  await check('cross-tenant: globex still signs in on its own (its form, its user) and answers silently afterwards', async () => {
    await spaStart(pg, 'g', 'loginWithRedirect');
    await completeSignIn(pg, GLOBEX, SPA_PAGE, { form: true, email: USERS.other.email });
    await openPage(pg, pg.url(), ready);
    const gopts = { ...base, domain: GLOBEX, clientId: CLIENTS.globex_spa, authorizationParams: { redirect_uri: SPA_PAGE } };
    await spaCreate(pg, 'g', gopts);
    await spaCallback(pg, 'g');
    const idc = await spa(pg, 'g', 'getIdTokenClaims');
    eq(idc.iss, `${GLOBEX}/`, 'iss');
    eq(idc.sub, USERS.other.id, 'sub (globex user, not acme alice)');
    const at = await spa(pg, 'g', 'getTokenSilently', { cacheMode: 'off' });
    eq(claims(at).iss, `${GLOBEX}/`, 'silent token iss');
  });

  await check('auth0-spa-js: logout -> /v2/logout redirects at once to the registered returnTo; the session is over', async () => {
    await openPage(pg, SPA_PAGE, ready);
    await spaCreate(pg, 'a', base, { checkSession: true });
    eq(await spa(pg, 'a', 'isAuthenticated'), true, 'isAuthenticated before logout');
    const m = net.mark();
    await spaStart(pg, 'a', 'logout', { logoutParams: { returnTo: LOGGED_OUT } });
    await inBrowser(pg, () => pg.waitForURL((u) => isAt(u.href, LOGGED_OUT), { waitUntil: 'commit' }));
    const landed = net.since(m).find((r) => isAt(r.url, LOGGED_OUT));
    assert(landed && landed.from.startsWith(`${ACME}/v2/logout?`), `returnTo was not reached by a redirect from /v2/logout (from ${landed && landed.from})`);
    const q = new URL(landed.from).searchParams;
    eq(q.get('client_id'), CLIENTS.spa, 'client_id');
    eq(q.get('returnTo'), LOGGED_OUT, 'returnTo');
    await openPage(pg, SPA_PAGE, ready);
    await spaCreate(pg, 'a', base, { checkSession: true });
    eq(await spa(pg, 'a', 'isAuthenticated'), false, 'isAuthenticated after logout');
    expectError(await spaTry(pg, 'a', 'getTokenSilently'), ['login_required'], 'getTokenSilently after logout');
  });
}

// ---- @auth0/auth0-react

async function reactSuite(newPage) {
  const { pg, net } = await newPage();
  const status = (want, what) => textOf(pg, '#status', (t) => t === want, what);

  const signedIn = await check('auth0-react: Auth0Provider + useAuth0: sign in with loginWithRedirect, the user shows', async () => {
    await inBrowser(pg, () => pg.goto(REACT_PAGE, { waitUntil: 'domcontentloaded' }));
    await status('signed-out', 'before sign-in');
    await pg.click('#login');
    await completeSignIn(pg, ACME, REACT_PAGE, { form: true });
    await status('signed-in', 'after the redirect back');
    eq(await pg.textContent('#user'), ALICE.email, 'user');
    return true;
  });

  await check('auth0-react: getAccessTokenSilently (cacheMode off) through the iframe', async () => {
    requireValue(signedIn, 'signed in');
    const m = net.mark();
    await pg.click('#token');
    const at = await textOf(pg, '#access-token', (t) => t.length > 0, 'access token');
    expectWebMessage(net.since(m), ACME, 1, 'getAccessTokenSilently');
    const p = await verifyAccessToken(at, ACME);
    eq(p.sub, ALICE.id, 'sub');
    eq(p.client_id || p.azp, CLIENTS.react, 'client_id');
  });

  await check('auth0-react: logout returns to the page signed out; getAccessTokenSilently then says login_required', async () => {
    requireValue(signedIn, 'signed in');
    const m = net.mark();
    const back = pg.waitForEvent('framenavigated', (f) => f === pg.mainFrame() && isAt(f.url(), REACT_PAGE));
    await pg.click('#logout');
    await inBrowser(pg, () => back);
    const landed = net.since(m).find((r) => isAt(r.url, REACT_PAGE));
    assert(landed && landed.from.startsWith(`${ACME}/v2/logout?`), `returnTo was not reached by a redirect from /v2/logout (from ${landed && landed.from})`);
    await status('signed-out', 'after logout');
    await pg.click('#token');
    eq(await textOf(pg, '#token-error', (t) => t.length > 0, 'token error'), 'login_required', 'error');
  });
}

// ---- oidc-client-ts

async function oidcSuite(newPage) {
  const { pg, net } = await newPage();
  const ready = () => !!window.oidcApp;
  const O = {};

  O.user = await check('oidc-client-ts: UserManager (authority with the trailing slash): signinRedirect -> signinCallback, userinfo', async () => {
    await openPage(pg, OIDC_PAGE, ready);
    const m = net.mark();
    await oidcStart(pg, 'acme', 'signinRedirect');
    await completeSignIn(pg, ACME, OIDC_PAGE, { form: true });
    await openPage(pg, pg.url(), ready);
    const user = await oidc(pg, 'acme', 'signinCallback');
    await inPage(pg, () => window.history.replaceState(null, '', window.location.pathname));
    eq(user.profile.sub, ALICE.id, 'profile.sub');
    eq(user.profile.email, ALICE.email, 'profile.email');
    eq(claims(user.id_token).iss, `${ACME}/`, 'ID token iss');
    const reqs = net.since(m);
    assert(reqs.some((r) => r.url === `${ACME}/.well-known/openid-configuration`), 'discovery was not read');
    assert(reqs.some((r) => r.url === `${ACME}/userinfo`), 'userinfo was not called');
    return user;
  });

  await check('oidc-client-ts: signinSilent through the hidden iframe (prompt=none, silent_redirect_uri)', async () => {
    const before = requireValue(O.user, 'signed in');
    const m = net.mark();
    const user = await oidc(pg, 'acme', 'signinSilent');
    const a = authorizeRequests(net.since(m), ACME);
    eq(a.length, 1, '/authorize requests');
    eq(a[0].get('prompt'), 'none', 'prompt');
    eq(a[0].get('redirect_uri'), `${APP}/oidc-silent.html`, 'redirect_uri');
    assert(user.access_token && user.access_token !== before.access_token, 'no new access token');
    eq(user.profile.sub, ALICE.id, 'profile.sub');
  });

  await check('cross-tenant: oidc-client-ts signinSilent on globex with the acme session -> login_required', async () => {
    requireValue(O.user, 'signed in');
    const r = await oidcTry(pg, 'globex', 'signinSilent');
    expectError(r, ['login_required'], 'signinSilent on globex');
  });

  await check('oidc-client-ts: signoutRedirect -> end_session_endpoint -> post_logout_redirect_uri; signinSilent then fails', async () => {
    requireValue(O.user, 'signed in');
    const m = net.mark();
    await oidcStart(pg, 'acme', 'signoutRedirect');
    await inBrowser(pg, () => pg.waitForURL((u) => isAt(u.href, LOGGED_OUT), { waitUntil: 'commit' }));
    const landed = net.since(m).find((r) => isAt(r.url, LOGGED_OUT));
    assert(landed && landed.from.startsWith(`${ACME}/oidc/logout?`), `post_logout_redirect_uri not reached by a redirect from /oidc/logout (from ${landed && landed.from})`);
    await openPage(pg, OIDC_PAGE, ready);
    await oidc(pg, 'acme', 'removeUser');
    expectError(await oidcTry(pg, 'acme', 'signinSilent'), ['login_required'], 'signinSilent after sign-out');
  });
}

run(main, () => {
  appServer.close();
  if (bundleDir && !process.env.E2E_KEEP) fs.rmSync(bundleDir, { recursive: true, force: true });
});
