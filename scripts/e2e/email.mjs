// End-to-end test of SIGN-IN BY EMAIL (the email connection: one email with a link and a code) on a RUNNING
// Authio server whose AUTHIO_SMTP_URL points at the tiny SMTP catcher this script runs.
//
// In headless Debian Chromium (playwright-core): browser context A asks for an email on the hosted sign-in
// page; the link, read from the captured email, opened in a second context B does not sign B in (it asks to go
// back to the first browser and never shows the code), and opened in A signs A in (the client gets a code).
// A second sign-in in A types the 6-digit code instead. The link opened on another tenant's host does nothing.
//
// Started by scripts/e2e.sh (run_email), which creates everything with the CLI and the Management API:
//   E2E_PORT          port Authio listens on (127.0.0.1)
//   E2E_SMTP_PORT     port of the SMTP catcher (the server's AUTHIO_SMTP_URL is smtp://127.0.0.1:$E2E_SMTP_PORT)
//   E2E_EMAIL_SETUP   setup file: {tenant, other_tenant, email, client_id, redirect_uri}
//   E2E_BASE_DOMAIN (default localhost), E2E_LABEL, E2E_CHROMIUM, E2E_TIMEOUT_SECONDS
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';

import { chromium } from 'playwright-core';

import { configure, need, BASE_DOMAIN, LABEL, CHROMIUM, CHROMIUM_ARGS, check, assert, eq, inBrowser, requireValue, run } from './harness.mjs';
import { MailCatcher } from './smtp.mjs';

configure({ name: 'email.mjs', accept: 'text/html' });

const PORT = need('E2E_PORT');
const SMTP_PORT = Number(need('E2E_SMTP_PORT'));
const S = JSON.parse(fs.readFileSync(need('E2E_EMAIL_SETUP'), 'utf8'));
const A = `http://${S.tenant}.${BASE_DOMAIN}:${PORT}`;
const B = `http://${S.other_tenant}.${BASE_DOMAIN}:${PORT}`;

// ---------------------------------------------------------------- the SMTP catcher

const smtp = new MailCatcher();
const messages = smtp.messages;

// mailTo waits for a message to addr caught at index after or later; returns its sign-in link and code.
async function mailTo(addr, after) {
  const text = await smtp.waitFor(addr, after);
  const link = (text.match(/(http:\/\/\S+\/login\/email\/verify\?token=[A-Za-z0-9_-]+)/) || [])[1];
  const code = (text.match(/enter this code on the sign-in page: (\d{6})/) || [])[1];
  assert(link && code, `email without link or code: ${text.slice(0, 400)}`);
  return { link, code };
}

// ---------------------------------------------------------------- the browser

const callback = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('callback');
});

function authorizeURL(base) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    response_type: 'code', client_id: S.client_id, redirect_uri: S.redirect_uri, scope: 'openid email',
    state, code_challenge: challenge, code_challenge_method: 'S256', prompt: 'login',
  });
  return { url: `${base}/authorize?${q}`, state };
}

async function hasSession(ctx, base) {
  const cookies = await ctx.cookies(base);
  return cookies.some((c) => c.name === 'authio_session' && c.value);
}

// askForEmail starts a sign-in in page and asks for the email; returns the number of emails caught before.
async function askForEmail(page) {
  const before = messages.length;
  const az = authorizeURL(A);
  await page.goto(az.url);
  // The email step, then the methods step's email connection (its form carries the email as a hidden field).
  await page.locator('#email').fill(S.email);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Continue' }).click()]);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Email me a sign-in link' }).click()]);
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  return { before, state: az.state };
}

async function main() {
  console.log(`== Authio sign-in by email e2e ${LABEL ? `[${LABEL}] ` : ''}against ${A} (other tenant ${B}, SMTP catcher :${SMTP_PORT})`);
  await smtp.listen(SMTP_PORT);
  // The client's redirect URI: a page that only says the browser got there.
  const cb = new URL(S.redirect_uri);
  await new Promise((resolve, reject) => {
    callback.once('error', reject);
    callback.listen(Number(cb.port), cb.hostname, resolve);
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
  const newContext = async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    return { ctx, page };
  };
  try {
    const a = await newContext();
    const b = await newContext();
    const asked = await check('A: the sign-in page sends an email and shows "Check your email" with a one-time-code field', () =>
      inBrowser(a.page, async () => {
        const r = await askForEmail(a.page);
        const code = a.page.locator('#email-code');
        eq(await code.getAttribute('autocomplete'), 'one-time-code', 'code autocomplete');
        eq(await code.getAttribute('inputmode'), 'numeric', 'code inputmode');
        return r;
      }),
    );
    const mail1 = await check('the email (caught over SMTP) carries a link on the tenant host and a 6-digit code', async () => {
      const m = await mailTo(S.email, requireValue(asked, 'email asked').before);
      assert(m.link.startsWith(`${A}/login/email/verify?token=`), `link ${m.link}`);
      return m;
    });
    await check('B: the link opened in a second browser context does not sign it in and does not show the code', () =>
      inBrowser(b.page, async () => {
        const m = requireValue(mail1, 'email');
        await b.page.goto(m.link);
        const text = await b.page.locator('main').innerText();
        assert(text.includes('Continue in your other browser'), `page: ${text}`);
        assert(!text.includes(m.code), 'the page shows the code');
        assert(!(await hasSession(b.ctx, A)), 'B has a session');
        assert(!b.page.url().startsWith(S.redirect_uri), 'B reached the client');
      }),
    );
    await check("the link on another tenant's host does nothing", () =>
      inBrowser(a.page, async () => {
        const m = requireValue(mail1, 'email');
        const foreign = m.link.replace(A, B);
        await a.page.goto(foreign);
        const text = await a.page.locator('main').innerText();
        assert(text.includes('expired'), `page: ${text}`);
        assert(!(await hasSession(a.ctx, B)), "a session on the other tenant's host");
      }),
    );
    await check('A: the link opened in the browser that asked signs it in (the client gets a code)', () =>
      inBrowser(a.page, async () => {
        const m = requireValue(mail1, 'email');
        await a.page.goto(m.link);
        await a.page.waitForURL((u) => u.toString().startsWith(S.redirect_uri));
        const u = new URL(a.page.url());
        assert(u.searchParams.get('code'), `no code in ${u}`);
        eq(u.searchParams.get('state'), asked.state, 'state');
        assert(await hasSession(a.ctx, A), 'no session cookie');
      }),
    );
    await check('A: the link works once', () =>
      inBrowser(a.page, async () => {
        await a.page.goto(requireValue(mail1, 'email').link);
        const text = await a.page.locator('main').innerText();
        assert(text.includes('expired'), `page: ${text}`);
      }),
    );
    await check('A: typing the code from a new email signs in too', () =>
      inBrowser(a.page, async () => {
        const r = await askForEmail(a.page);
        const m = await mailTo(S.email, r.before);
        await a.page.locator('#email-code').fill(m.code);
        await a.page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await a.page.waitForURL((u) => u.toString().startsWith(S.redirect_uri));
        eq(new URL(a.page.url()).searchParams.get('state'), r.state, 'state');
      }),
    );
  } finally {
    await browser.close();
  }
}

run(main, () => {
  smtp.close();
  callback.close();
});
