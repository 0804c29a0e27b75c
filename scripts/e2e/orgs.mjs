// End-to-end test of ORGANIZATIONS on a RUNNING Authio server.
//
// A user who belongs to two organizations signs in once in headless Debian Chromium (through
// playwright-core), then switches the active organization with POST /v1/sessions/switch-org and
// with RFC 8693 token exchange; an organization picker, refusals (non-member, suspended member,
// another tenant's token), the Management API (API key and an organization-scoped token), the
// privacy of /v1/me/memberships and the audit log are checked too. Every JWT is verified with
// jose against the tenant's JWKS and issuer.
//
// Started by scripts/e2e.sh, which creates everything with the CLI and writes it to a JSON file:
//
//   E2E_PORT               port Authio listens on (127.0.0.1)
//   E2E_CALLBACK_PORT      port of the callback server this script runs on 127.0.0.1; every public
//                          client of the setup has redirect URI http://127.0.0.1:$E2E_CALLBACK_PORT/callback
//   E2E_ORGS_SETUP         path of the setup file (see orgs_setup in scripts/e2e.sh):
//     tenant, other_tenant     slugs of tenant A (organizations) and tenant B (another tenant)
//     api                      identifier of the API created with `authio api create` on tenant A
//     password                 every user's password
//     users.{alice,bob,carol}  {id, email, membership_ids} on tenant A; users.other on tenant B
//       alice: Acme (role admin), Globex (role member), Initech (suspended)
//       bob:   Globex (role member)            carol: Acme (role member; suspended by this script)
//     orgs.{acme,globex,initech}  {id, name, display_name}
//     roles.{admin,member}     {id, permissions: the role's permission names on `api`}
//     clients.app              public, organization usage allow, grants code/refresh/token_exchange,
//                              audiences `api` and urn:authio:management
//     clients.picker           public, organization usage require, audience `api`
//     clients.machine          {id, secret}: confidential, client_credentials, added to Globex
//     clients.other            public client of tenant B
//     api_key                  sk_live_… key of tenant A
//   E2E_BASE_DOMAIN (default localhost), E2E_SCHEME (default http), E2E_LABEL (printed),
//   E2E_CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.
// The harness (environment, HTTP from Node, checks, the report and the watchdog) is harness.mjs.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';

import * as jose from 'jose';
import { chromium } from 'playwright-core';

import {
  configure, need, BASE_DOMAIN, SCHEME, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, sameSet, status, requireValue, short, isAt, inBrowser, run, fillPasswordSignIn, PASSWORD_SUBMIT, goBack,
} from './harness.mjs';

// ---------------------------------------------------------------- configuration

configure({ name: 'orgs', accept: 'application/json' });

const PORT = need('E2E_PORT');
const CB_PORT = need('E2E_CALLBACK_PORT');
const S = JSON.parse(fs.readFileSync(need('E2E_ORGS_SETUP'), 'utf8'));

const A = `${SCHEME}://${S.tenant}.${BASE_DOMAIN}:${PORT}`; // tenant A's base URL (issuer: A + '/')
const B = `${SCHEME}://${S.other_tenant}.${BASE_DOMAIN}:${PORT}`; // tenant B's base URL
const REDIRECT_URI = `http://127.0.0.1:${CB_PORT}/callback`;
const MGMT = 'urn:authio:management';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TT_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const SCOPE = 'openid profile email offline_access';
const { alice, bob, carol } = S.users;
const { acme, globex, initech } = S.orgs;

// ---------------------------------------------------------------- callback server

const callbackServer = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><title>orgs callback</title><p id="cb">callback received: ${req.url.replace(/[<>&"]/g, '')}</p>`);
});

// ---------------------------------------------------------------- OAuth helpers

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// A fresh authorization request (code + PKCE S256) on base for clientId: { url, verifier, state, nonce }.
function newAuth(base, clientId, extra = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(12));
  const nonce = b64url(crypto.randomBytes(12));
  const u = new URL(`${base}/authorize`);
  const q = {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce,
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256', ...extra,
  };
  for (const [k, v] of Object.entries(q)) if (v !== undefined) u.searchParams.set(k, v);
  return { url: u.href, base, clientId, verifier, state, nonce };
}

// Opens an authorization URL in page. With `who`, the hosted login form is expected (unless the
// browser already has a session and `who.allowSession`) and is filled with who's email and the
// password. Ends at the redirect URI or at a page of the sign-in flow (the picker on /authorize/resume).
// Returns { url, sawForm }.
async function authorizeIn(page, a, who) {
  await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
  let sawForm = false;
  if (!isAt(page.url(), REDIRECT_URI) && new URL(page.url()).pathname === '/login') {
    assert(who, `expected no login form (the browser has a session), got ${page.url()}`);
    sawForm = true;
    await fillPasswordSignIn(page, who.email, S.password);
    const waiter = page.waitForURL((u) => isAt(u.href, REDIRECT_URI) || u.pathname.startsWith('/authorize'), {
      timeout: 15000,
      waitUntil: 'domcontentloaded',
    });
    await page.click(PASSWORD_SUBMIT);
    await waiter;
  } else if (who && !who.allowSession) {
    throw new Error(`expected the login form, the server answered ${page.url()}`);
  }
  return { url: page.url(), sawForm };
}

// The authorization response at the redirect URI: { code, state, iss, error, error_description }.
function callbackParams(url) {
  assert(isAt(url, REDIRECT_URI), `not at the redirect URI: ${url}`);
  return Object.fromEntries(new URL(url).searchParams);
}

// Checks the authorization response of a and redeems its code; returns the token response.
async function redeem(a, url) {
  const p = callbackParams(url);
  assert(!p.error, `error=${p.error} (${p.error_description || ''})`);
  assert(p.code, `no code: ${short(p)}`);
  eq(p.state, a.state, 'state');
  eq(p.iss, `${a.base}/`, 'iss');
  const r = await request('POST', `${a.base}/oauth/token`, {
    form: { grant_type: 'authorization_code', code: p.code, redirect_uri: REDIRECT_URI, client_id: a.clientId, code_verifier: a.verifier },
  });
  status(r, 200, 'code exchange');
  assert(r.json && r.json.access_token && r.json.id_token, `missing tokens: ${short(r.text)}`);
  return r.json;
}

// Expects an error at the redirect URI (no code), with state and iss.
function expectCallbackError(a, url, error) {
  const p = callbackParams(url);
  assert(!p.code, `a code was issued: ${url}`);
  eq(p.error, error, `error (${p.error_description || ''})`);
  eq(p.state, a.state, 'state');
  eq(p.iss, `${a.base}/`, 'iss');
  return p;
}

const keySets = new Map();
async function keySet(base) {
  if (!keySets.has(base)) {
    const r = await request('GET', `${base}/.well-known/jwks.json`);
    status(r, 200, `JWKS of ${base}`);
    assert(r.json && Array.isArray(r.json.keys) && r.json.keys.length, `JWKS without keys: ${short(r.text)}`);
    keySets.set(base, jose.createLocalJWKSet(r.json));
  }
  return keySets.get(base);
}

// jose-verified access token (RFC 9068: typ at+jwt) of base: its claims.
async function accessClaims(token, base) {
  assert(typeof token === 'string' && token, 'no access token');
  const { payload, protectedHeader } = await jose.jwtVerify(token, await keySet(base), {
    issuer: `${base}/`, typ: 'at+jwt', algorithms: ['RS256'], clockTolerance: 5,
  });
  assert(protectedHeader.kid, 'access token header has no kid');
  return payload;
}

// jose-verified ID token of base for clientId (and nonce when given): its claims.
async function idClaims(token, base, clientId, nonce) {
  assert(typeof token === 'string' && token, 'no ID token');
  const { payload } = await jose.jwtVerify(token, await keySet(base), {
    issuer: `${base}/`, audience: clientId, algorithms: ['RS256'], clockTolerance: 5,
  });
  if (nonce !== undefined) eq(payload.nonce, nonce, 'nonce');
  return payload;
}

function expectOrgClaims(c, org, roles, perms, what) {
  eq(c.org_id, org.id, `${what} org_id`);
  eq(c.act_org, org.id, `${what} act_org`);
  eq(c.org_name, org.name, `${what} org_name`);
  sameSet(c.roles, roles, `${what} roles`);
  sameSet(c.permissions, perms, `${what} permissions`);
}

function audiences(c) {
  return [].concat(c.aud || []);
}

function tokenRequest(base, form, basic) {
  return request('POST', `${base}/oauth/token`, { form, basic });
}

const refresh = (base, clientId, rt) => tokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt, client_id: clientId });

const exchange = (base, clientId, form) =>
  tokenRequest(base, { grant_type: TOKEN_EXCHANGE, client_id: clientId, subject_token_type: TT_ACCESS, ...form });

const switchOrg = (base, bearer, body) => request('POST', `${base}/v1/sessions/switch-org`, { bearer, json: body });

// An OAuth error response: status and error code.
function expectOAuthError(r, st, code, what) {
  status(r, st, what);
  eq(r.json && r.json.error, code, `${what}: error (${short(r.text)})`);
  assert(!(r.json && r.json.access_token), `${what}: a token came back`);
}

// A Management API error: {statusCode, error, message, errorCode}.
function expectAPIError(r, st, what) {
  status(r, st, what);
  const j = r.json || {};
  eq(j.statusCode, st, `${what}: statusCode`);
  assert(typeof j.error === 'string' && j.error, `${what}: no error in ${short(r.text)}`);
  assert(typeof j.message === 'string' && j.message, `${what}: no message in ${short(r.text)}`);
  assert(typeof j.errorCode === 'string' && j.errorCode, `${what}: no errorCode in ${short(r.text)}`);
  return j;
}

const ADMIN_PERMS = S.roles.admin.permissions;
const MEMBER_PERMS = S.roles.member.permissions;

// ---------------------------------------------------------------- scenario

async function main() {
  const t0 = Date.now();
  console.log(`== Authio organizations e2e ${LABEL ? `[${LABEL}] ` : ''}against ${A} (other tenant ${B}, callback ${REDIRECT_URI})`);
  await new Promise((resolve, reject) => {
    callbackServer.once('error', reject);
    callbackServer.listen(Number(CB_PORT), '127.0.0.1', resolve);
  });

  let switches = 0; // successful switches of alice; the audit log must show exactly these

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
  // one isolated browser (cookie jar) per person
  const newPage = async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    return page;
  };
  try {
    // ================================================================ 1. one sign-in, for Acme
    const alicePage = await newPage();
    const a1 = newAuth(A, S.clients.app, { organization: acme.name, audience: S.api });
    const cb1 = await check(`alice signs in once in Chromium (code + PKCE, organization=${acme.name}, audience=${S.api})`, () =>
      inBrowser(alicePage, async () => {
        const r = await authorizeIn(alicePage, a1, alice);
        assert(r.sawForm, 'no login form');
        return r.url;
      }),
    );
    const tkAcme = await check('code exchange: ID token (jose: iss, aud, nonce, RS256) names Acme: org_id, org_name; sub = alice', async () => {
      const tk = await redeem(a1, requireValue(cb1, 'sign-in'));
      const c = await idClaims(tk.id_token, A, S.clients.app, a1.nonce);
      eq(c.sub, alice.id, 'sub');
      eq(c.org_id, acme.id, 'ID token org_id');
      eq(c.org_name, acme.name, 'ID token org_name');
      assert(tk.refresh_token, 'no refresh token (offline_access)');
      return tk;
    });
    const acmeAT = await check('Acme access token (jose, at+jwt): org_id = act_org, org_name, roles [admin], admin permissions on the API, aud = API', async () => {
      const c = await accessClaims(requireValue(tkAcme, 'Acme tokens').access_token, A);
      eq(c.sub, alice.id, 'sub');
      expectOrgClaims(c, acme, ['admin'], ADMIN_PERMS, 'Acme');
      assert(audiences(c).includes(S.api), `aud ${short(c.aud)}`);
      assert(c.sid, 'no sid');
      return c;
    });
    await check('GET /v1/me with the Acme token: alice, active_organization Acme', async () => {
      const r = await request('GET', `${A}/v1/me`, { bearer: requireValue(tkAcme, 'Acme tokens').access_token });
      status(r, 200, '/v1/me');
      eq(r.json.id, alice.id, 'id');
      eq(r.json.email, alice.email, 'email');
      eq(r.json.active_organization && r.json.active_organization.id, acme.id, 'active_organization.id');
      eq(r.json.active_organization.name, acme.name, 'active_organization.name');
    });

    // ================================================================ 2. switch-org to Globex
    const sw = await check('POST /v1/sessions/switch-org to Globex (with the refresh token): 200 Bearer, expires_in, scope, refresh_token, active_organization, memberships', async () => {
      const tk = requireValue(tkAcme, 'Acme tokens');
      const r = await switchOrg(A, tk.access_token, { organization_id: globex.id, refresh_token: tk.refresh_token });
      status(r, 200, 'switch-org');
      switches++;
      const j = r.json;
      eq(j.token_type, 'Bearer', 'token_type');
      assert(Number.isInteger(j.expires_in) && j.expires_in > 0, `expires_in ${j.expires_in}`);
      assert(typeof j.scope === 'string' && j.scope.split(' ').includes('openid'), `scope ${short(j.scope)}`);
      assert(j.access_token && j.refresh_token, `tokens missing: ${short(Object.keys(j))}`);
      assert(j.refresh_token !== tk.refresh_token, 'the same refresh token came back');
      eq(j.active_organization && j.active_organization.id, globex.id, 'active_organization.id');
      eq(j.active_organization.name, globex.name, 'active_organization.name');
      eq(j.active_organization.display_name, globex.display_name, 'active_organization.display_name');
      assert(Array.isArray(j.memberships), `memberships ${short(j.memberships)}`);
      const byOrg = Object.fromEntries(j.memberships.map((m) => [m.organization && m.organization.id, m]));
      sameSet(byOrg[acme.id] && byOrg[acme.id].roles, ['admin'], 'Acme membership roles');
      sameSet(byOrg[globex.id] && byOrg[globex.id].roles, ['member'], 'Globex membership roles');
      return j;
    });
    await check('switched access token: Globex org_id/act_org/org_name, roles [member], member permissions; same sub and sid, same aud', async () => {
      const c = await accessClaims(requireValue(sw, 'switch').access_token, A);
      const before = requireValue(acmeAT, 'Acme access token');
      expectOrgClaims(c, globex, ['member'], MEMBER_PERMS, 'Globex');
      eq(c.sub, alice.id, 'sub');
      eq(c.sid, before.sid, 'sid');
      sameSet(audiences(c), audiences(before), 'aud');
    });
    const tkGlobex = await check('the switched refresh token, refreshed, still yields Globex (new refresh token)', async () => {
      const r = await refresh(A, S.clients.app, requireValue(sw, 'switch').refresh_token);
      status(r, 200, 'refresh');
      assert(r.json.refresh_token && r.json.refresh_token !== sw.refresh_token, 'refresh token not rotated');
      const c = await accessClaims(r.json.access_token, A);
      expectOrgClaims(c, globex, ['member'], MEMBER_PERMS, 'refreshed Globex');
      eq(c.sub, alice.id, 'sub');
      if (r.json.id_token) {
        const idc = await idClaims(r.json.id_token, A, S.clients.app);
        eq(idc.org_id, globex.id, 'refreshed ID token org_id');
      }
      return r.json;
    });
    await check('the original refresh token stays bound to Acme', async () => {
      const r = await refresh(A, S.clients.app, requireValue(tkAcme, 'Acme tokens').refresh_token);
      status(r, 200, 'refresh');
      expectOrgClaims(await accessClaims(r.json.access_token, A), acme, ['admin'], ADMIN_PERMS, 'refreshed Acme');
    });

    // ================================================================ 3. RFC 8693 back to Acme
    const xAcme = await check('RFC 8693 token exchange of the Globex access token for Acme: issued_token_type, Acme claims, sub unchanged, no refresh token', async () => {
      const g = requireValue(tkGlobex, 'refreshed Globex tokens');
      const r = await exchange(A, S.clients.app, { subject_token: g.access_token, organization: acme.name });
      status(r, 200, 'token exchange');
      switches++;
      const j = r.json;
      eq(j.issued_token_type, TT_ACCESS, 'issued_token_type');
      eq(j.token_type, 'Bearer', 'token_type');
      assert(Number(j.expires_in) > 0, `expires_in ${j.expires_in}`);
      assert(!j.refresh_token, 'an access token as subject must not bring a refresh token');
      const c = await accessClaims(j.access_token, A);
      expectOrgClaims(c, acme, ['admin'], ADMIN_PERMS, 'exchanged Acme');
      eq(c.sub, alice.id, 'sub');
      eq(c.sid, requireValue(acmeAT, 'Acme access token').sid, 'sid');
      assert(audiences(c).includes(S.api), `aud ${short(c.aud)}`);
      return j;
    });
    await check('the exchange (openid granted) brings an ID token for Acme: jose-verified, same sub and sid, org_id Acme, no nonce', async () => {
      const j = requireValue(xAcme, 'token exchange to Acme');
      const idc = await idClaims(j.id_token, A, S.clients.app);
      eq(idc.sub, alice.id, 'sub');
      eq(idc.sid, requireValue(acmeAT, 'Acme access token').sid, 'sid');
      eq(idc.org_id, acme.id, 'org_id');
      eq(idc.org_name, acme.name, 'org_name');
      eq(idc.nonce, undefined, 'nonce');
    });

    // ================================================================ 4. organization picker
    const pickerPage = await newPage();
    const ap = newAuth(A, S.clients.picker, { audience: S.api });
    const picker = await check('client with organization usage "require": sign-in without organization shows the picker', () =>
      inBrowser(pickerPage, async () => {
        const r = await authorizeIn(pickerPage, ap, alice);
        assert(r.sawForm, 'no login form');
        assert(!isAt(r.url, REDIRECT_URI), `went straight to the redirect URI: ${r.url}`);
        eq(new URL(r.url).pathname, '/authorize/resume', 'picker path');
        assert(/^flw_/.test(new URL(r.url).searchParams.get('state') || ''), `picker URL without a flow id: ${r.url}`);
        const choices = await pickerPage.$$eval('a.choice', (as) =>
          as.map((a) => ({
            href: a.getAttribute('href'),
            label: (a.querySelector('.choice-label') || a).textContent.trim(),
            detail: ((a.querySelector('.choice-detail') || {}).textContent || '').trim(),
          })),
        );
        assert(choices.length, `no a.choice links on ${r.url}`);
        return choices;
      }),
    );
    await check("the picker lists exactly alice's active organizations (Acme, Globex), not the suspended Initech", async () => {
      const choices = requireValue(picker, 'picker');
      sameSet(choices.map((c) => c.label), [acme.display_name, globex.display_name], 'labels');
      const orgOf = (c) => new URL(c.href, A).searchParams.get('organization');
      sameSet(choices.map(orgOf), [acme.id, globex.id], 'organization parameter of the links');
      for (const c of choices) eq(new URL(c.href, A).pathname, '/authorize/resume', `path of ${c.href}`);
      const text = await pickerPage.evaluate(() => document.body.innerText);
      assert(!text.includes(initech.display_name) && !text.includes(initech.id), 'the suspended organization is shown');
    });
    const pickedTk = await check('clicking Globex in the picker completes the flow: the tokens name Globex', () =>
      inBrowser(pickerPage, async () => {
        requireValue(picker, 'picker');
        // A refresh shows the same step of the stored flow again.
        const pickerUrl = pickerPage.url();
        await pickerPage.reload({ waitUntil: 'domcontentloaded' });
        eq(pickerPage.url(), pickerUrl, 'picker URL after a refresh');
        eq(await pickerPage.locator('a.choice').count(), 2, 'choices after a refresh');
        const waiter = pickerPage.waitForURL((u) => isAt(u.href, REDIRECT_URI), { timeout: 15000, waitUntil: 'domcontentloaded' });
        await pickerPage.click(`a.choice:has-text("${globex.display_name}")`);
        await waiter;
        const tk = await redeem(ap, pickerPage.url());
        const c = await accessClaims(tk.access_token, A);
        expectOrgClaims(c, globex, ['member'], MEMBER_PERMS, 'picked');
        eq(c.sub, alice.id, 'sub');
        const idc = await idClaims(tk.id_token, A, S.clients.picker, ap.nonce);
        eq(idc.org_id, globex.id, 'ID token org_id');
        eq(idc.org_name, globex.name, 'ID token org_name');
        return tk;
      }),
    );
    await check('back to the picker after choosing: the flow is complete, the expired page (no second code)', () =>
      inBrowser(pickerPage, async () => {
        requireValue(pickedTk, 'picked tokens');
        await goBack(pickerPage);
        assert(!isAt(pickerPage.url(), REDIRECT_URI), `back stayed at the redirect URI: ${pickerPage.url()}`);
        const h1 = (await pickerPage.locator('h1').first().textContent()) || '';
        assert(/sign-in link has expired/i.test(h1), `not the expired page (h1 ${short(h1)}) at ${pickerPage.url()}`);
      }),
    );
    await check('a client without the token_exchange grant (the picker client) cannot exchange its own token -> unauthorized_client', async () => {
      const r = await exchange(A, S.clients.picker, { subject_token: requireValue(pickedTk, 'picked tokens').access_token, organization: acme.name });
      assert(r.status >= 400 && r.status < 500, `status ${r.status} ${short(r.text)}`);
      eq(r.json && r.json.error, 'unauthorized_client', `error (${short(r.text)})`);
    });

    // ================================================================ 5. refusals
    const bobPage = await newPage();
    await check('non-member: bob asks for Acme at /authorize -> error=access_denied at the redirect URI (state, iss, no code)', () =>
      inBrowser(bobPage, async () => {
        const a = newAuth(A, S.clients.app, { organization: acme.name });
        const r = await authorizeIn(bobPage, a, bob);
        expectCallbackError(a, r.url, 'access_denied');
      }),
    );
    const bobTk = await check('bob signs in for Globex: token names Globex', () =>
      inBrowser(bobPage, async () => {
        const a = newAuth(A, S.clients.app, { organization: globex.name });
        const r = await authorizeIn(bobPage, a, { ...bob, allowSession: true });
        const tk = await redeem(a, r.url);
        const c = await accessClaims(tk.access_token, A);
        eq(c.sub, bob.id, 'sub');
        eq(c.org_id, globex.id, 'org_id');
        return tk;
      }),
    );
    await check('switch-org into an organization the user is not in (bob -> Acme) -> 403 access_denied', async () => {
      const r = await switchOrg(A, requireValue(bobTk, 'bob').access_token, { organization_id: acme.id });
      expectOAuthError(r, 403, 'access_denied', 'switch-org');
    });
    await check('switch-org into a suspended membership (alice -> Initech) -> 403', async () => {
      const r = await switchOrg(A, requireValue(xAcme, 'exchanged Acme token').access_token, { organization_id: initech.id });
      expectOAuthError(r, 403, 'access_denied', 'switch-org');
    });
    await check('token exchange into an organization the user is not in (bob -> Acme) -> 403 access_denied', async () => {
      const r = await exchange(A, S.clients.app, { subject_token: requireValue(bobTk, 'bob').access_token, organization: acme.name });
      expectOAuthError(r, 403, 'access_denied', 'token exchange');
    });

    // carol: a member of Acme, signed in, then suspended through the Management API
    const carolPage = await newPage();
    const carolTk = await check('carol (Acme member) signs in for Acme: roles [member], member permissions', () =>
      inBrowser(carolPage, async () => {
        const a = newAuth(A, S.clients.app, { organization: acme.name, audience: S.api });
        const tk = await redeem(a, (await authorizeIn(carolPage, a, carol)).url);
        const c = await accessClaims(tk.access_token, A);
        expectOrgClaims(c, acme, ['member'], MEMBER_PERMS, 'carol Acme');
        assert(tk.refresh_token, 'no refresh token');
        return tk;
      }),
    );
    const suspended = await check("Management API (API key): PATCH /api/v2/organizations/{acme}/members/{carol} {status: suspended} -> 200", async () => {
      const r = await request('PATCH', `${A}/api/v2/organizations/${acme.id}/members/${carol.id}`, { bearer: S.api_key, json: { status: 'suspended' } });
      status(r, 200, 'PATCH member');
      eq(r.json.status, 'suspended', 'status');
      eq(r.json.user_id, carol.id, 'user_id');
      eq(r.json.organization_id, acme.id, 'organization_id');
      return true;
    });
    await check("after suspension carol's existing refresh token is refused (invalid_grant)", async () => {
      requireValue(suspended, 'suspension');
      const r = await refresh(A, S.clients.app, requireValue(carolTk, 'carol').refresh_token);
      expectOAuthError(r, 400, 'invalid_grant', 'refresh');
    });
    await check('suspended member: carol asks for Acme at /authorize -> error=access_denied at the redirect URI', () =>
      inBrowser(carolPage, async () => {
        requireValue(suspended, 'suspension');
        const a = newAuth(A, S.clients.app, { organization: acme.name });
        const r = await authorizeIn(carolPage, a, { ...carol, allowSession: true });
        expectCallbackError(a, r.url, 'access_denied');
      }),
    );

    // another tenant's token
    const otherPage = await newPage();
    const otherTk = await check(`a user of tenant ${S.other_tenant} signs in there (its own user and client)`, () =>
      inBrowser(otherPage, async () => {
        const a = newAuth(B, S.clients.other);
        const tk = await redeem(a, (await authorizeIn(otherPage, a, S.users.other)).url);
        const c = await accessClaims(tk.access_token, B);
        eq(c.sub, S.users.other.id, 'sub');
        await idClaims(tk.id_token, B, S.clients.other, a.nonce);
        return tk;
      }),
    );
    await check(`${S.other_tenant}'s access token at ${S.tenant}'s switch-org -> 401 with WWW-Authenticate`, async () => {
      const r = await switchOrg(A, requireValue(otherTk, 'other tenant sign-in').access_token, { organization_id: acme.id });
      expectOAuthError(r, 401, 'invalid_token', 'switch-org');
      assert(r.headers['www-authenticate'], 'no WWW-Authenticate');
    });
    await check(`${S.other_tenant}'s access token as subject_token at ${S.tenant}'s token exchange -> 400 invalid_request`, async () => {
      const r = await exchange(A, S.clients.app, { subject_token: requireValue(otherTk, 'other tenant sign-in').access_token, organization: acme.name });
      expectOAuthError(r, 400, 'invalid_request', 'token exchange');
    });

    // machine client allowed into Globex with `authio org add-client`
    await check('client_credentials with organization=globex (org add-client) -> organization token for Globex', async () => {
      const r = await tokenRequest(A, { grant_type: 'client_credentials', audience: S.api, organization: globex.name }, [S.clients.machine.id, S.clients.machine.secret]);
      status(r, 200, 'client_credentials');
      const c = await accessClaims(r.json.access_token, A);
      eq(c.sub, S.clients.machine.id, 'sub');
      eq(c.org_id, globex.id, 'org_id');
      eq(c.org_name, globex.name, 'org_name');
    });
    await check('client_credentials with organization=acme (not added) -> 403 access_denied', async () => {
      const r = await tokenRequest(A, { grant_type: 'client_credentials', audience: S.api, organization: acme.name }, [S.clients.machine.id, S.clients.machine.secret]);
      expectOAuthError(r, 403, 'access_denied', 'client_credentials');
    });

    // ================================================================ 6. Management API
    await check('Management API (API key): GET /api/v2/organizations lists acme, globex, initech', async () => {
      const r = await request('GET', `${A}/api/v2/organizations`, { bearer: S.api_key });
      status(r, 200, 'list organizations');
      assert(Array.isArray(r.json), `not an array: ${short(r.text)}`);
      sameSet(r.json.map((o) => o.name), [acme.name, globex.name, initech.name], 'names');
      const a = r.json.find((o) => o.id === acme.id);
      eq(a && a.display_name, acme.display_name, 'Acme display_name');
    });
    await check('Management API (API key): GET /api/v2/organizations/{acme}/members -> alice (admin) and carol (suspended)', async () => {
      const r = await request('GET', `${A}/api/v2/organizations/${acme.id}/members?include_totals=true`, { bearer: S.api_key });
      status(r, 200, 'list members');
      const ms = r.json && r.json.members;
      assert(Array.isArray(ms), `no members array: ${short(r.text)}`);
      eq(r.json.total, 2, 'total');
      sameSet(ms.map((m) => m.user_id), [alice.id, carol.id], 'user_ids');
      const ma = ms.find((m) => m.user_id === alice.id);
      eq(ma.email, alice.email, 'alice email');
      eq(ma.status, 'active', 'alice status');
      sameSet((ma.roles || []).map((x) => x.name), ['admin'], 'alice roles');
      eq(ms.find((m) => m.user_id === carol.id).status, 'suspended', 'carol status');
    });
    const mgmtTk = await check(`organization-scoped Management API token: alice, no new sign-in (SSO), organization=${acme.name}, audience=${MGMT}`, () =>
      inBrowser(alicePage, async () => {
        const a = newAuth(A, S.clients.app, { organization: acme.name, audience: MGMT, prompt: 'none' });
        const tk = await redeem(a, (await authorizeIn(alicePage, a, null)).url);
        const c = await accessClaims(tk.access_token, A);
        eq(c.org_id, acme.id, 'org_id');
        assert(audiences(c).includes(MGMT), `aud ${short(c.aud)}`);
        const perms = c.permissions || [];
        for (const p of ['read:organizations', 'read:organization_members']) assert(perms.includes(p), `permissions ${short(perms)} lack ${p}`);
        assert(!perms.some((p) => ADMIN_PERMS.includes(p)), `the API's permissions leaked into the Management API token: ${short(perms)}`);
        return tk.access_token;
      }),
    );
    await check('that token: GET /api/v2/organizations/{acme}/members -> 200 (alice listed)', async () => {
      const r = await request('GET', `${A}/api/v2/organizations/${acme.id}/members`, { bearer: requireValue(mgmtTk, 'management token') });
      status(r, 200, 'own members');
      assert(Array.isArray(r.json) && r.json.some((m) => m.user_id === alice.id), `alice not listed: ${short(r.text)}`);
    });
    await check("that token: GET /api/v2/organizations/{globex}/members -> 403 (another organization)", async () => {
      const r = await request('GET', `${A}/api/v2/organizations/${globex.id}/members`, { bearer: requireValue(mgmtTk, 'management token') });
      expectAPIError(r, 403, "Globex's members");
      assert(!r.text.includes(bob.id), 'the 403 body names a Globex member');
    });
    await check('that token: GET /api/v2/users -> 403 (tenant-wide route)', async () => {
      const r = await request('GET', `${A}/api/v2/users`, { bearer: requireValue(mgmtTk, 'management token') });
      expectAPIError(r, 403, '/api/v2/users');
      assert(!r.text.includes(bob.email), 'the 403 body lists users');
    });
    await check(`${S.tenant}'s API key on ${S.other_tenant}'s host -> 401`, async () => {
      const r = await request('GET', `${B}/api/v2/organizations`, { bearer: S.api_key });
      expectAPIError(r, 401, 'API key of another tenant');
    });
    await check(`${S.tenant}'s Management API token on ${S.other_tenant}'s host -> 401`, async () => {
      const r = await request('GET', `${B}/api/v2/organizations/${acme.id}/members`, { bearer: requireValue(mgmtTk, 'management token') });
      expectAPIError(r, 401, 'token of another tenant');
    });

    // ================================================================ 7. privacy
    const bobLeaks = [alice.id, alice.email, acme.id, initech.id, carol.id, carol.email, ...alice.membership_ids];
    await check("GET /v1/me/memberships with bob's token: only bob's Globex membership; nothing of alice's", async () => {
      const r = await request('GET', `${A}/v1/me/memberships`, { bearer: requireValue(bobTk, 'bob').access_token });
      status(r, 200, '/v1/me/memberships');
      const ms = r.json && r.json.memberships;
      assert(Array.isArray(ms), `no memberships array: ${short(r.text)}`);
      eq(ms.length, 1, `number of memberships (${short(ms)})`);
      eq(ms[0].organization.id, globex.id, 'organization');
      sameSet(ms[0].roles, ['member'], 'roles');
      eq(ms[0].id, bob.membership_ids[0], 'membership id');
      for (const leak of bobLeaks) assert(!r.text.includes(leak), `the answer mentions ${leak}`);
    });
    await check("bob's token cannot read alice's memberships: GET /api/v2/users/{alice}/organizations -> 401/403", async () => {
      const r = await request('GET', `${A}/api/v2/users/${alice.id}/organizations`, { bearer: requireValue(bobTk, 'bob').access_token });
      expectAPIError(r, r.status === 401 ? 401 : 403, 'bob on alice');
      for (const leak of [acme.id, initech.id, ...alice.membership_ids]) assert(!r.text.includes(leak), `the answer mentions ${leak}`);
    });
    await check(`bob's own ${MGMT} token (no organization, no permissions): same request -> 403`, () =>
      inBrowser(bobPage, async () => {
        const a = newAuth(A, S.clients.app, { audience: MGMT, prompt: 'none' });
        const tk = await redeem(a, (await authorizeIn(bobPage, a, null)).url);
        const c = await accessClaims(tk.access_token, A);
        assert(c.org_id === undefined, `internal token has org_id ${c.org_id}`);
        const r = await request('GET', `${A}/api/v2/users/${alice.id}/organizations`, { bearer: tk.access_token });
        expectAPIError(r, 403, 'bob (management audience) on alice');
        for (const leak of [acme.id, initech.id]) assert(!r.text.includes(leak), `the answer mentions ${leak}`);
      }),
    );

    // ================================================================ 8. audit log
    await check('GET /api/v2/logs?type=session.org_switched (API key): the switches, with user and from/to, nothing for refusals', async () => {
      const r = await request('GET', `${A}/api/v2/logs?type=session.org_switched&per_page=100`, { bearer: S.api_key });
      status(r, 200, 'logs');
      const logs = r.json; // a bare array, as Auth0 answers without include_totals
      assert(Array.isArray(logs), `no logs array: ${short(r.text)}`);
      for (const l of logs) eq(l.type, 'session.org_switched', 'type of a listed event');
      const find = (from, to, via) => logs.find((l) => l.user_id === alice.id && l.data && l.data.from === from && l.data.to === to && l.data.via === via);
      const s1 = find(acme.id, globex.id, 'switch-org');
      assert(s1, `no event for switch-org Acme -> Globex in ${short(logs, 800)}`);
      eq(s1.organization_id, globex.id, 'organization_id of the switch-org event');
      eq(s1.client_id, S.clients.app, 'client_id of the switch-org event');
      assert(find(globex.id, acme.id, 'token_exchange'), `no event for token exchange Globex -> Acme in ${short(logs, 800)}`);
      eq(logs.length, switches, `number of session.org_switched events (${switches} successful switches; refused ones write none)`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(`== done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

run(main, () => callbackServer.close());
