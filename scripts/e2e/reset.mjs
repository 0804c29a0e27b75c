// End-to-end test of PASSWORD RESET on a RUNNING Authio server whose AUTHIO_SMTP_URL points at the tiny SMTP
// catcher this script runs.
//
// In headless Debian Chromium (playwright-core): context B signs in (a session on another device); context A starts
// a sign-in, follows "Forgot password?", asks for a link with the address typed in another case, reads the link
// from the captured email (sent to the stored address), chooses a new password, goes back into its sign-in flow and
// signs in with the new password. The link works once, does nothing on another tenant's host, the old password is
// refused, and B's session has ended (prompt=none answers login_required).
//
// Started by scripts/e2e.sh (run_reset), which creates everything with the CLI:
//   E2E_PORT          port Authio listens on (127.0.0.1)
//   E2E_SMTP_PORT     port of the SMTP catcher (the server's AUTHIO_SMTP_URL is smtp://127.0.0.1:$E2E_SMTP_PORT)
//   E2E_RESET_SETUP   setup file: {tenant, other_tenant, email, password, client_id, redirect_uri}
//   E2E_BASE_DOMAIN (default localhost), E2E_LABEL, E2E_CHROMIUM, E2E_TIMEOUT_SECONDS
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';

import { chromium } from 'playwright-core';

import { configure, need, BASE_DOMAIN, LABEL, CHROMIUM, CHROMIUM_ARGS, check, assert, eq, inBrowser, requireValue, run } from './harness.mjs';
import { MailCatcher } from './smtp.mjs';

configure({ name: 'reset.mjs', accept: 'text/html' });

const PORT = need('E2E_PORT');
const SMTP_PORT = Number(need('E2E_SMTP_PORT'));
const S = JSON.parse(fs.readFileSync(need('E2E_RESET_SETUP'), 'utf8'));
const A = `http://${S.tenant}.${BASE_DOMAIN}:${PORT}`;
const B = `http://${S.other_tenant}.${BASE_DOMAIN}:${PORT}`;
const NEW_PASSWORD = 'e2e-reset-' + crypto.randomBytes(6).toString('hex');

// ---------------------------------------------------------------- the SMTP catcher

const smtp = new MailCatcher();
const messages = smtp.messages;

// mailTo waits for a message caught at index after or later for exactly addr; returns its reset link.
async function mailTo(addr, after) {
  const text = await smtp.waitFor(addr, after, { exact: true });
  const link = (text.match(/(http:\/\/\S+\/login\/reset\?token=[A-Za-z0-9_-]+)/) || [])[1];
  assert(link, `email without a reset link: ${text.slice(0, 400)}`);
  return link;
}

// ---------------------------------------------------------------- the browser

const callback = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('callback');
});

function authorizeURL(extra = {}) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    response_type: 'code', client_id: S.client_id, redirect_uri: S.redirect_uri, scope: 'openid email',
    state, code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  });
  return { url: `${A}/authorize?${q}`, state };
}

// signInOnPage fills the sign-in page for email and password: the email step first when the page shows it, else
// the methods step of the email the flow already holds (its email is a hidden field).
async function signInOnPage(page, email, password) {
  const pw = page.locator('#password');
  if (!(await pw.isVisible())) {
    await page.locator('#email').fill(email);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Continue' }).click()]);
  }
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
}

async function reachedClient(page, state) {
  await page.waitForURL((u) => u.toString().startsWith(S.redirect_uri));
  const u = new URL(page.url());
  assert(u.searchParams.get('code'), `no code in ${u}`);
  eq(u.searchParams.get('state'), state, 'state');
}

async function main() {
  console.log(`== Authio password reset e2e ${LABEL ? `[${LABEL}] ` : ''}against ${A} (other tenant ${B}, SMTP catcher :${SMTP_PORT})`);
  await smtp.listen(SMTP_PORT);
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
    await check('B: signs in with the old password (a session on another device)', () =>
      inBrowser(b.page, async () => {
        const az = authorizeURL();
        await b.page.goto(az.url);
        await signInOnPage(b.page, S.email, S.password);
        await reachedClient(b.page, az.state);
      }),
    );
    const asked = await check('A: "Forgot password?" on the sign-in page asks for the address and answers "Check your email"', () =>
      inBrowser(a.page, async () => {
        const az = authorizeURL({ prompt: 'login' });
        await a.page.goto(az.url);
        const pw = a.page.locator('#password');
        if (!(await pw.isVisible())) {
          await a.page.locator('#email').fill(S.email);
          await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('button', { name: 'Continue' }).click()]);
        }
        await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('link', { name: 'Forgot password?' }).click()]);
        assert(new URL(a.page.url()).pathname === '/login/forgot', `at ${a.page.url()}`);
        const before = messages.length;
        await a.page.locator('#email').fill(S.email.toUpperCase());
        await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('button', { name: 'Send the link' }).click()]);
        await a.page.getByRole('heading', { name: 'Check your email' }).waitFor();
        return { before, state: az.state };
      }),
    );
    const link = await check('the email goes to the stored address (not the spelling typed) with a link on the tenant host', async () => {
      const l = await mailTo(S.email, requireValue(asked, 'forgot').before);
      assert(l.startsWith(`${A}/login/reset?token=`), `link ${l}`);
      assert(!messages.some((m) => m.to === S.email.toUpperCase()), 'a mail went to the typed spelling');
      return l;
    });
    await check("the link on another tenant's host cannot be used", () =>
      inBrowser(a.page, async () => {
        await a.page.goto(requireValue(link, 'link').replace(A, B));
        const text = await a.page.locator('main').innerText();
        assert(text.includes('cannot be used'), `page: ${text}`);
      }),
    );
    await check('A: the link\'s form sets the new password (a mismatched confirmation is refused next to its field)', () =>
      inBrowser(a.page, async () => {
        await a.page.goto(requireValue(link, 'link'));
        await a.page.locator('#password').fill(NEW_PASSWORD);
        await a.page.locator('#password_confirm').fill(NEW_PASSWORD + 'x');
        await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('button', { name: 'Change password' }).click()]);
        eq(await a.page.locator('#password_confirm').getAttribute('aria-invalid'), 'true', 'confirmation aria-invalid');
        eq(await a.page.locator('#password_confirm').getAttribute('aria-describedby'), 'password_confirm-error', 'aria-describedby');
        await a.page.locator('#password').fill(NEW_PASSWORD);
        await a.page.locator('#password_confirm').fill(NEW_PASSWORD);
        await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('button', { name: 'Change password' }).click()]);
        await a.page.getByRole('heading', { name: 'Your password has been changed' }).waitFor();
      }),
    );
    await check('A: "Sign in" goes back into the sign-in flow; the old password is refused, the new one reaches the client', () =>
      inBrowser(a.page, async () => {
        await Promise.all([a.page.waitForLoadState('load'), a.page.getByRole('link', { name: 'Sign in' }).click()]);
        assert(new URL(a.page.url()).searchParams.get('state'), `not back in the flow: ${a.page.url()}`);
        const flowPage = a.page.url();
        await signInOnPage(a.page, S.email, S.password);
        const text = await a.page.locator('main').innerText();
        assert(text.includes('Wrong email or password'), `old password: ${text}`);
        await a.page.goto(flowPage);
        await signInOnPage(a.page, S.email, NEW_PASSWORD);
        await reachedClient(a.page, requireValue(asked, 'forgot').state);
      }),
    );
    await check('the link works once', () =>
      inBrowser(a.page, async () => {
        await a.page.goto(requireValue(link, 'link'));
        const text = await a.page.locator('main').innerText();
        assert(text.includes('cannot be used'), `page: ${text}`);
      }),
    );
    await check("B: the other device's session ended with the reset (prompt=none: login_required)", () =>
      inBrowser(b.page, async () => {
        const az = authorizeURL({ prompt: 'none' });
        await b.page.goto(az.url);
        await b.page.waitForURL((u) => u.toString().startsWith(S.redirect_uri));
        eq(new URL(b.page.url()).searchParams.get('error'), 'login_required', 'error');
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
