// End-to-end test of the second factor (TOTP authenticator app and recovery codes) in a real browser.
//
// Headless Chromium (playwright-core) signs in to the account page with a password, sets up an authenticator
// app from the page (the QR code must load under the page's CSP; the manual key is read from the page and the
// codes are computed here with a small RFC 6238 implementation on node:crypto), keeps the ten recovery codes,
// signs out, signs in again with the password and a code, signs out, and signs in with a recovery code. The
// same code is refused a second time, and so is a used recovery code. The Management API lists the methods,
// another tenant's domain knows nothing of the session, and its API key sees no user of this tenant.
//
// Started by scripts/e2e.sh (run_mfa), which creates the tenants and user with the CLI:
//
//   E2E_PORT            the server's port
//   E2E_MFA_SETUP       JSON file: {tenant, other_tenant, email, password, user_id, api_key, other_api_key}
//   E2E_BASE_DOMAIN (default localhost), E2E_LABEL (printed), E2E_CHROMIUM (default /usr/bin/chromium),
//   E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import crypto from 'node:crypto';
import fs from 'node:fs';

import { chromium } from 'playwright-core';

import {
  configure, need, BASE_DOMAIN, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, requireValue, inBrowser, run, fillPasswordSignIn, PASSWORD_SUBMIT,
} from './harness.mjs';

configure({ name: 'mfa', accept: 'application/json' });

const PORT = need('E2E_PORT');
const SETUP = JSON.parse(fs.readFileSync(need('E2E_MFA_SETUP'), 'utf8'));
const BASE = `http://${SETUP.tenant}.${BASE_DOMAIN}:${PORT}`;
const OTHER_BASE = `http://${SETUP.other_tenant}.${BASE_DOMAIN}:${PORT}`;

// ---------------------------------------------------------------- RFC 6238 (SHA-1, 6 digits, 30 s)

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);
let lastStep = 0;

// A code of a step not used before (each step's code is accepted once): waits for the next step if needed.
async function freshCode(secret) {
  while (stepNow() <= lastStep) await new Promise((r) => setTimeout(r, 500));
  lastStep = stepNow();
  return totp(secret, lastStep);
}

// ---------------------------------------------------------------- browser steps

// signInWithPassword opens the account page in page, signs in with the password, and returns where it landed.
async function signInWithPassword(page) {
  await page.goto(`${BASE}/account`);
  await fillPasswordSignIn(page, SETUP.email, SETUP.password);
  await Promise.all([page.waitForNavigation(), page.click(PASSWORD_SUBMIT)]);
  return new URL(page.url());
}

async function signOut(page) {
  await page.goto(`${BASE}/oidc/logout`);
  await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
  const r = await page.goto(`${BASE}/account`);
  assert(new URL(page.url()).pathname === '/login', `after signing out, /account is at ${page.url()} (status ${r.status()})`);
}

async function submitCode(page, code) {
  await page.fill('#code', code);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#code) button[type="submit"]')]);
}

// ---------------------------------------------------------------- the run

async function main() {
  console.log(`mfa e2e${LABEL ? ` (${LABEL})` : ''}: tenant ${BASE}, other ${OTHER_BASE}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    let secret;
    let recovery = [];

    await check('password sign-in reaches the account page, with an authenticator section', () => inBrowser(page, async () => {
      const at = await signInWithPassword(page);
      eq(at.pathname, '/account', 'landed on');
      assert(await page.$('#authenticator'), 'no #authenticator section');
    }));

    secret = await check('set up an authenticator app: QR code shown (CSP allows it) and manual key read from the page', () => inBrowser(page, async () => {
      await Promise.all([page.waitForNavigation(), page.click('form[action="/account/authenticator/start"] button[type="submit"]')]);
      const img = await page.waitForSelector('#authenticator figure.qr img');
      const loaded = await img.evaluate((el) => el.complete && el.naturalWidth > 0);
      assert(loaded, 'the QR code image did not load (Content-Security-Policy?)');
      const key = (await page.textContent('#totp-secret')).replace(/\s+/g, '');
      assert(/^[A-Z2-7]{32}$/.test(key), `manual key ${key}`);
      return key;
    }));
    requireValue(secret, 'the manual key');

    recovery = await check('a wrong code is refused next to the field; the right one turns the app on and shows 10 recovery codes', () => inBrowser(page, async () => {
      const good = await freshCode(secret);
      const bad = String((Number(good) + 500001) % 1_000_000).padStart(6, '0');
      await page.fill('#authenticator-code', bad);
      await Promise.all([page.waitForNavigation(), page.click('form[action="/account/authenticator/confirm"] button[type="submit"]')]);
      eq(await page.getAttribute('#authenticator-code', 'aria-invalid'), 'true', 'aria-invalid after a wrong code');
      await page.fill('#authenticator-code', good);
      await Promise.all([page.waitForNavigation(), page.click('form[action="/account/authenticator/confirm"] button[type="submit"]')]);
      const codes = await page.$$eval('.recovery-codes code', (els) => els.map((e) => e.textContent.trim()));
      eq(codes.length, 10, 'recovery codes shown');
      await Promise.all([page.waitForNavigation(), page.click('a.button')]);
      eq(new URL(page.url()).pathname, '/account', 'back to the account page');
      return codes;
    })) || [];

    await check('the Management API lists password, totp and recovery-code', async () => {
      const r = await request('GET', `${BASE}/api/v2/users/${encodeURIComponent(SETUP.user_id)}/authentication-methods`, { bearer: SETUP.api_key });
      eq(r.status, 200, 'status');
      const types = r.json.map((m) => m.type).sort().join(',');
      eq(types, 'password,recovery-code,totp', 'types');
      assert(r.json.every((m) => m.confirmed === true), 'every method confirmed');
    });

    await check("another tenant's domain has no session, and its API key sees no such user", () => inBrowser(page, async () => {
      await page.goto(`${OTHER_BASE}/account`);
      eq(new URL(page.url()).pathname, '/login', 'other tenant /account');
      const r = await request('GET', `${OTHER_BASE}/api/v2/users/${encodeURIComponent(SETUP.user_id)}/authentication-methods`, { bearer: SETUP.other_api_key });
      eq(r.status, 404, "other tenant's Management API");
    }));

    await check('sign out; the password alone now leads to the second-factor page, a code completes the sign-in', () => inBrowser(page, async () => {
      await signOut(page);
      const at = await signInWithPassword(page);
      eq(at.pathname, '/login/mfa', 'after the password');
      const code = await freshCode(secret);
      await submitCode(page, code);
      eq(new URL(page.url()).pathname, '/account', 'after the code');
      // The same code again, in a fresh sign-in, is refused.
      await signOut(page);
      await signInWithPassword(page);
      await submitCode(page, code);
      eq(new URL(page.url()).pathname, '/login/mfa', 'a reused code');
      eq(await page.getAttribute('#code', 'aria-invalid'), 'true', 'aria-invalid after a reused code');
    }));

    await check('"Use a recovery code" signs in once with a recovery code', () => inBrowser(page, async () => {
      requireValue(recovery[0], 'a recovery code');
      await Promise.all([page.waitForNavigation(), page.click('text=Use a recovery code')]);
      await submitCode(page, recovery[0]);
      eq(new URL(page.url()).pathname, '/account', 'after the recovery code');
      await signOut(page);
      await signInWithPassword(page);
      await Promise.all([page.waitForNavigation(), page.click('text=Use a recovery code')]);
      await submitCode(page, recovery[0]);
      eq(new URL(page.url()).pathname, '/login/mfa', 'a used recovery code');
      assert((await page.textContent('#code-error')).includes('used already'), 'the error says the code was used');
    }));
  } finally {
    await browser.close();
  }
}

run(main);
