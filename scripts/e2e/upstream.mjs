// End-to-end test of UPSTREAM OIDC sign-in on a RUNNING Authio server.
//
// Tenant `fed` gets an oidc connection (created here through the Management API) whose provider is
// another tenant of the same server, `fedidp`. Headless Debian Chromium (playwright-core) opens fed's
// sign-in page, clicks "Continue with Fed IdP", signs in on fedidp's hosted form and comes back to
// fed's app; the ID token (verified with jose against fed's JWKS) says amr ["fed"] and idp = the
// connection's name. An upstream user whose email fedidp has not verified is refused (403) and no
// account is made; the client secret is never returned; another tenant cannot start fed's connection.
//
// Started by scripts/e2e.sh (run_upstream), which writes the setup file:
//
//   E2E_PORT             port Authio listens on (127.0.0.1)
//   E2E_CALLBACK_PORT    port of the callback server this script runs; app and rival_app redirect to
//                        http://127.0.0.1:$E2E_CALLBACK_PORT/callback
//   E2E_UPSTREAM_SETUP   path of the setup file:
//     tenant, idp_tenant, rival_tenant   slugs (fed, fedidp, fedrival)
//     password                           the users' password on fedidp
//     verified, unverified               emails of fedidp users (email verified, and not)
//     idp_client {id, secret}            fedidp's confidential client for fed's /login/callback
//     app, rival_app                     public clients of fed and of fedrival
//     api_key                            a Management API key of fed
//   E2E_BASE_DOMAIN (default localhost), E2E_SCHEME (default http), E2E_LABEL (printed),
//   E2E_CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';

import * as jose from 'jose';
import { chromium } from 'playwright-core';

import {
  configure, need, BASE_DOMAIN, SCHEME, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, sameSet, status, requireValue, short, isAt, inBrowser, run, fillPasswordSignIn,
} from './harness.mjs';

configure({ name: 'upstream', accept: 'application/json' });

const PORT = need('E2E_PORT');
const CB_PORT = need('E2E_CALLBACK_PORT');
const S = JSON.parse(fs.readFileSync(need('E2E_UPSTREAM_SETUP'), 'utf8'));

const RP = `${SCHEME}://${S.tenant}.${BASE_DOMAIN}:${PORT}`; // the relying tenant
const IDP = `${SCHEME}://${S.idp_tenant}.${BASE_DOMAIN}:${PORT}`; // its identity provider
const RIVAL = `${SCHEME}://${S.rival_tenant}.${BASE_DOMAIN}:${PORT}`;
const REDIRECT_URI = `http://127.0.0.1:${CB_PORT}/callback`;
const CONNECTION = 'fed-idp';

const callbackServer = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end('<!doctype html><title>upstream callback</title><p>callback received</p>');
});

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function newAuth(base, clientId) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(12));
  const nonce = b64url(crypto.randomBytes(12));
  const u = new URL(`${base}/authorize`);
  const q = {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: 'openid profile email', state, nonce,
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return { url: u.href, base, clientId, verifier, state, nonce };
}

// From fed's sign-in page, through fedidp's hosted form as email; returns the last response of fed's callback
// (its status) and where the page ended.
async function federate(page, a, email) {
  await page.goto(a.url, { waitUntil: 'domcontentloaded' });
  eq(new URL(page.url()).origin + new URL(page.url()).pathname, `${RP}/login`, 'first page');
  const button = page.getByRole('link', { name: 'Continue with Fed IdP' });
  await button.waitFor();
  await Promise.all([page.waitForURL((u) => u.origin === IDP && u.pathname === '/login'), button.click()]);
  await fillPasswordSignIn(page, email, S.password); // the email step, then the password

  const callback = page.waitForResponse((r) => r.url().startsWith(`${RP}/login/callback?`));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const resp = await callback;
  await page.waitForLoadState('domcontentloaded');
  return { status: resp.status(), url: page.url() };
}

async function main() {
  console.log(`upstream e2e ${LABEL}: ${RP} signs in through ${IDP}`);
  await new Promise((resolve, reject) => {
    callbackServer.once('error', reject);
    callbackServer.listen(Number(CB_PORT), '127.0.0.1', resolve);
  });
  const mgmt = (method, path, json) => request(method, `${RP}/api/v2${path}`, { bearer: S.api_key, json });

  const conn = await check(`Management API: POST /connections strategy oidc, issuer ${IDP}/ (201, no client_secret shown)`, async () => {
    const r = await mgmt('POST', '/connections', {
      name: CONNECTION, strategy: 'oidc',
      options: { issuer: `${IDP}/`, client_id: S.idp_client.id, client_secret: S.idp_client.secret, display_name: 'Fed IdP' },
    });
    status(r, 201, 'create connection');
    eq(r.json.strategy, 'oidc', 'strategy');
    assert(!('client_secret' in r.json.options) && !r.text.includes(S.idp_client.secret), `secret shown: ${short(r.text)}`);
    const g = await mgmt('GET', `/connections/${r.json.id}`);
    status(g, 200, 'get connection');
    assert(!g.text.includes(S.idp_client.secret) && !g.text.includes('client_secret'), `secret shown: ${short(g.text)}`);
    return r.json;
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
  const newPage = async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15000);
    return page;
  };
  try {
    const jwks = jose.createRemoteJWKSet(new URL(`${RP}/.well-known/jwks.json`));
    let userID;
    await check(`Chromium signs in to ${S.tenant} through ${S.idp_tenant}; ID token amr ["fed"], idp "${CONNECTION}"`, async () => {
      requireValue(conn, 'connection');
      const page = await newPage();
      await inBrowser(page, async () => {
        const a = newAuth(RP, S.app);
        const r = await federate(page, a, S.verified);
        eq(r.status, 303, `${S.tenant}'s callback`);
        await page.waitForURL((u) => isAt(u.href, REDIRECT_URI));
        const p = Object.fromEntries(new URL(page.url()).searchParams);
        eq(p.state, a.state, 'state');
        assert(p.code, `no code: ${page.url()}`);
        const t = await request('POST', `${RP}/oauth/token`, {
          form: { grant_type: 'authorization_code', code: p.code, redirect_uri: REDIRECT_URI, client_id: S.app, code_verifier: a.verifier },
        });
        status(t, 200, 'code exchange');
        const { payload } = await jose.jwtVerify(t.json.id_token, jwks, { issuer: `${RP}/`, audience: S.app });
        eq(payload.nonce, a.nonce, 'nonce');
        sameSet(payload.amr, ['fed'], 'amr');
        eq(payload.idp, CONNECTION, 'idp');
        eq(payload.email, S.verified, 'email');
        userID = payload.sub;
      });
    });

    await check(`${S.tenant}'s user is linked to the ${S.idp_tenant} account (Management API identities)`, async () => {
      const r = await mgmt('GET', `/users/${requireValue(userID, 'sign-in')}`);
      status(r, 200, 'get user');
      const ids = (r.json.identities || []).map((i) => i.connection);
      assert(ids.includes(CONNECTION), `identities: ${short(r.json.identities)}`);
    });

    await check('an upstream email the provider has not verified is refused (403) and no account is made', async () => {
      requireValue(conn, 'connection');
      const page = await newPage();
      await inBrowser(page, async () => {
        const r = await federate(page, newAuth(RP, S.app), S.unverified);
        eq(r.status, 403, `${S.tenant}'s callback`);
        const text = await page.evaluate(() => document.body.innerText);
        assert(/not verified your email/.test(text), `page: ${short(text)}`);
      });
      const u = await mgmt('GET', `/users-by-email?email=${encodeURIComponent(S.unverified)}`);
      status(u, 200, 'users by email');
      eq(u.json.length, 0, 'users with the unverified address');
    });

    await check(`${S.rival_tenant} cannot start ${S.tenant}'s connection (404, by name and id)`, async () => {
      requireValue(conn, 'connection');
      const page = await newPage();
      await inBrowser(page, async () => {
        await page.goto(newAuth(RIVAL, S.rival_app).url, { waitUntil: 'domcontentloaded' });
        const flow = new URL(page.url()).searchParams.get('state');
        assert(flow, `no flow at ${page.url()}`);
        for (const ref of [CONNECTION, conn.id]) {
          const resp = await page.goto(`${RIVAL}/login/${ref}/start?state=${flow}`, { waitUntil: 'domcontentloaded' });
          eq(resp.status(), 404, `start ${ref} on ${S.rival_tenant}`);
        }
      });
    });
  } finally {
    await browser.close();
  }
}

run(main, () => callbackServer.close());
