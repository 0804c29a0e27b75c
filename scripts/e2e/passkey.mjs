// End-to-end test of PASSKEYS on a RUNNING Authio server, in headless Debian Chromium (playwright-core) with a
// CDP virtual authenticator (ctap2, internal transport, resident keys, user verification): a new user signs up
// and adds a passkey on the page offered right after sign-up, signs out, signs in with it discoverably (no
// email), then after typing the email; the second tenant's domain cannot use it. The ID tokens' amr must say
// hwk + user (the virtual authenticator's keys are device-bound). The discoverable sign-in is checked both through
// the email field's autofill (conditional mediation) and with the button.
//
// Started by scripts/e2e.sh (suite "passkey"), which creates the tenants with the CLI and writes a JSON file:
//
//   E2E_PORT               port Authio listens on (127.0.0.1)
//   E2E_CALLBACK_PORT      port of the callback server this script runs; both clients redirect to
//                          http://127.0.0.1:$E2E_CALLBACK_PORT/callback
//   E2E_PASSKEY_SETUP      path of the setup file: tenant, other_tenant (slugs; tenant allows sign-up),
//                          client, other_client (public clients), api_key, other_api_key (sk_… keys)
//   E2E_BASE_DOMAIN (default localhost), E2E_SCHEME (default http), E2E_LABEL, E2E_CHROMIUM,
//   E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';

import { chromium } from 'playwright-core';

import {
  configure, need, BASE_DOMAIN, SCHEME, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, status, requireValue, isAt, inBrowser, run,
} from './harness.mjs';

configure({ name: 'passkey', accept: 'application/json' });

const PORT = need('E2E_PORT');
const CB_PORT = need('E2E_CALLBACK_PORT');
const S = JSON.parse(fs.readFileSync(need('E2E_PASSKEY_SETUP'), 'utf8'));

const A = `${SCHEME}://${S.tenant}.${BASE_DOMAIN}:${PORT}`;
const B = `${SCHEME}://${S.other_tenant}.${BASE_DOMAIN}:${PORT}`;
const REDIRECT_URI = `http://127.0.0.1:${CB_PORT}/callback`;
const EMAIL = `passkey-${Date.now()}@${S.tenant}.test`;
const PASSWORD = 'Passkey-e2e-Password-1';

const callbackServer = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><title>passkey callback</title><p id="cb">callback received</p>`);
});

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function newAuth(base, clientId, extra = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(12));
  const nonce = b64url(crypto.randomBytes(12));
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: 'openid email',
    state, nonce, code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256', prompt: 'login', ...extra,
  });
  return { base, clientId, url: `${base}/authorize?${q}`, verifier, state };
}

// redeem exchanges the code of callback URL url and returns the ID token's claims (the token came straight from
// the token endpoint over the loopback, so its payload is read without a signature check here; the Go tests
// verify signatures).
async function redeem(a, url) {
  const u = new URL(url);
  eq(u.searchParams.get('state'), a.state, 'state');
  const code = requireValue(u.searchParams.get('code'), `code in ${url}`);
  const r = await request('POST', `${a.base}/oauth/token`, {
    form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: a.clientId, code_verifier: a.verifier },
  });
  status(r, 200, 'token endpoint');
  const idToken = requireValue(r.json.id_token, 'id_token');
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
}

const atCallback = (u) => isAt(u.href, REDIRECT_URI);

async function main() {
  await new Promise((resolve) => callbackServer.listen(Number(CB_PORT), '127.0.0.1', resolve));
  console.log(`passkey e2e${LABEL ? ` (${LABEL})` : ''}: tenant ${A}, other tenant ${B}`);

  await check('Management API: a passkey connection on both tenants', async () => {
    for (const [base, key] of [[A, S.api_key], [B, S.other_api_key]]) {
      const r = await request('POST', `${base}/api/v2/connections`, { bearer: key, json: { name: 'passkey', strategy: 'passkey' } });
      status(r, 201, `POST ${base}/api/v2/connections`);
      eq(r.json.strategy, 'passkey', 'strategy');
    }
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

    await check('sign-up offers a passkey, which is registered for the tenant domain, then the flow goes on', () => inBrowser(page, async () => {
      const a = newAuth(A, S.client);
      await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
      await page.click('a[href^="/signup"]');
      await page.waitForSelector('input[name="password"]', { timeout: 15000 });
      await page.fill('input[name="email"]', EMAIL);
      await page.fill('input[name="password"]', PASSWORD);
      await Promise.all([page.waitForURL((u) => u.pathname === '/account/passkeys', { timeout: 15000 }),
        page.click('form button[type="submit"]')]);
      const add = page.locator('form[data-passkey-register] button[data-passkey-button]');
      await add.waitFor({ state: 'visible', timeout: 15000 });
      await page.fill('#passkey-name', 'E2E virtual key');
      const waiter = page.waitForURL(atCallback, { timeout: 20000 });
      await add.click();
      await waiter;
      const claims = await redeem(a, page.url());
      eq(claims.email, EMAIL, 'email');
      const creds = await credentials();
      eq(creds.length, 1, 'credentials in the virtual authenticator');
      eq(creds[0].rpId, `${S.tenant}.${BASE_DOMAIN}`, 'RP ID');
      assert(creds[0].isResidentCredential, 'the passkey is discoverable');
    }));

    await check('sign out', () => inBrowser(page, async () => {
      await page.goto(`${A}/v2/logout`, { waitUntil: 'domcontentloaded', timeout: 15000 });
      const cookies = await context.cookies(A);
      assert(!cookies.some((c) => c.name === 'authio_session'), 'the session cookie is gone');
    }));

    // The virtual authenticator answers at once while presence simulation is on, so the autofill request
    // (conditional mediation) the sign-in page starts signs in by itself; with it off, requests wait.
    const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    const begins = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/login/passkey/begin')) begins.push(new URLSearchParams(r.postData() || ''));
    });

    await check('sign in discoverably through the email field\'s autofill (conditional mediation): amr hwk + user', () => inBrowser(page, async () => {
      const a = newAuth(A, S.client);
      begins.length = 0;
      const waiter = page.waitForURL(atCallback, { timeout: 20000 });
      await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
      await waiter;
      eq(begins.length, 1, 'begin requests');
      eq(begins[0].get('email'), null, 'the email sent with the ceremony');
      const claims = await redeem(a, page.url());
      eq(claims.email, EMAIL, 'email');
      eq(JSON.stringify(claims.amr), JSON.stringify(['hwk', 'user']), 'amr');
    }));

    await check('sign in discoverably with the "Sign in with a passkey" button (no email typed)', () => inBrowser(page, async () => {
      await page.goto(`${A}/v2/logout`, { waitUntil: 'domcontentloaded', timeout: 15000 });
      await presence(false);
      const a = newAuth(A, S.client);
      await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
      const button = page.locator('form[data-passkey-login] button[data-passkey-button]');
      await button.waitFor({ state: 'visible', timeout: 15000 });
      begins.length = 0;
      await presence(true);
      const waiter = page.waitForURL(atCallback, { timeout: 20000 });
      await button.click();
      await waiter;
      assert(begins.every((b) => !b.get('email')), 'no email was sent');
      const claims = await redeem(a, page.url());
      eq(claims.email, EMAIL, 'email');
    }));

    await check('sign in with the passkey after the email step', () => inBrowser(page, async () => {
      await page.goto(`${A}/v2/logout`, { waitUntil: 'domcontentloaded', timeout: 15000 });
      await presence(false);
      const a = newAuth(A, S.client);
      await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
      await page.fill('input[type="email"][name="email"]', EMAIL);
      await Promise.all([page.waitForSelector('#signing-in-as', { timeout: 15000 }), page.click('form button[type="submit"]')]);
      const button = page.locator('form[data-passkey-login] button[data-passkey-button]');
      await button.waitFor({ state: 'visible', timeout: 15000 });
      begins.length = 0;
      await presence(true);
      const waiter = page.waitForURL(atCallback, { timeout: 20000 });
      await button.click();
      await waiter;
      eq(begins.length, 1, 'begin requests');
      eq(begins[0].get('email'), EMAIL, 'the email sent with the ceremony');
      const claims = await redeem(a, page.url());
      eq(claims.email, EMAIL, 'email');
    }));

    await check('the second tenant\'s domain cannot use the passkey', () => inBrowser(page, async () => {
      const a = newAuth(B, S.other_client);
      await page.goto(a.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
      const button = page.locator('form[data-passkey-login] button[data-passkey-button]');
      await button.waitFor({ state: 'visible', timeout: 15000 });
      await button.click();
      const error = page.locator('form[data-passkey-login] .field-error');
      await error.waitFor({ state: 'visible', timeout: 20000 });
      assert(new URL(page.url()).pathname === '/login', `still on the sign-in page, got ${page.url()}`);
      const cookies = await context.cookies(B);
      assert(!cookies.some((c) => c.name === 'authio_session'), 'no session on the other tenant');
    }));
  } finally {
    await browser.close();
  }
}

run(main, () => callbackServer.close());
