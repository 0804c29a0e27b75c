// Authio end-to-end suite "pages": the hosted sign-in page (email first) and the account page in headless
// Chromium, with axe-core run on each state (no serious or critical violations) and screenshots at 375 px wide
// and at desktop width saved to $E2E_ARTIFACTS (default scripts/e2e/out, git-ignored).
//
// It covers the account page end to end: sign in (email step, methods step), change the name, change the
// password with a wrong then the right current password, list the sessions, sign out a session made in a
// second browser context (which loses it), unlinking refused when it is the user's only way to sign in, and a
// session cookie of this tenant sent to another tenant showing nothing.
//
// Environment (scripts/e2e.sh sets it): E2E_PAGES_SETUP (JSON file: base, other_base, tenant_id, connection_id,
// password, alice {id, email}, carol {id, email}), E2E_PAGES_SQL (a shell command that runs the SQL statement
// given as its first argument against the server's database: the suite writes what no API makes yet, an
// upstream identity), E2E_ARTIFACTS, E2E_LABEL, E2E_TIMEOUT_SECONDS.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import {
  configure, need, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, short, inBrowser, run, PASSWORD_SUBMIT,
} from './harness.mjs';

configure({ name: 'pages', accept: 'text/html' });

const S = JSON.parse(fs.readFileSync(need('E2E_PAGES_SETUP'), 'utf8'));
const SQL = need('E2E_PAGES_SQL');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(HERE, 'out');
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const NEW_PASSWORD = 'An0ther-Long-Passphrase!';

fs.mkdirSync(ARTIFACTS, { recursive: true });

function sql(statement) {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', `${SQL} "$1"`, 'sql', statement], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`SQL ${statement}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

// axeCheck runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP does not
// govern) and fails on any serious or critical violation.
async function axeCheck(page, what) {
  await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert(bad.length === 0, `axe on ${what}: ${summary.join('; ')}`);
  return res.violations.length;
}

// shots saves the page at 375 px wide (a phone) and at desktop width, full page, as <name>-375.png and
// <name>-desktop.png.
async function shots(page, name) {
  const size = page.viewportSize();
  const label = LABEL ? `${LABEL}-` : '';
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: path.join(ARTIFACTS, `${label}${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(ARTIFACTS, `${label}${name}-desktop.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  return e ? (e.id || e.getAttribute('role') || e.tagName) : '';
});

// signIn goes from wherever page is to the account page: /account, the email step, the methods step.
async function signIn(page, email, password) {
  await page.goto(`${S.base}/account`, { waitUntil: 'domcontentloaded' });
  await page.fill('#email', email);
  await Promise.all([page.waitForSelector('input[name="password"]'), page.click('button:has-text("Continue")')]);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click(PASSWORD_SUBMIT)]);
}

async function submitIn(page, sectionId, buttonText) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click(`#${sectionId} button:has-text("${buttonText}")`),
  ]);
}

async function main() {
  const t0 = Date.now();
  console.log(`== Authio pages e2e ${LABEL ? `[${LABEL}] ` : ''}against ${S.base} (screenshots in ${ARTIFACTS})`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
  const newPage = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    return page;
  };
  try {
    const page = await newPage();

    await check('sign-in, email step: /account sends the browser there; one email field (autocomplete "username webauthn"); axe', () =>
      inBrowser(page, async () => {
        await page.goto(`${S.base}/account`, { waitUntil: 'domcontentloaded' });
        const at = new URL(page.url());
        eq(at.pathname, '/login', 'path');
        eq(at.searchParams.get('return_to'), '/account', 'return_to');
        eq(await page.getAttribute('#email', 'autocomplete'), 'username webauthn', 'autocomplete');
        eq(await page.locator('input[type="password"]').count(), 0, 'password fields at the email step');
        await axeCheck(page, 'the email step');
        await shots(page, 'signin-identify');
      }),
    );

    await check('sign-in, error state: a malformed email is refused next to the field, which gets the focus; axe', () =>
      inBrowser(page, async () => {
        // past the browser's own check (required, type=email), to see the server's answer
        await page.evaluate(() => {
          const e = document.getElementById('email');
          e.removeAttribute('required');
          e.type = 'text';
        });
        await page.fill('#email', 'not-an-address');
        await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button:has-text("Continue")')]);
        eq(await page.getAttribute('#email', 'aria-invalid'), 'true', 'aria-invalid');
        eq(await page.getAttribute('#email', 'aria-describedby'), 'email-error', 'aria-describedby');
        eq(await focused(page), 'email', 'focused element');
        await axeCheck(page, 'the email step with an error');
        await shots(page, 'signin-identify-error');
      }),
    );

    await check('sign-in, methods step: "Signing in as", the password form, Forgot password?; a wrong password focuses the alert; axe', () =>
      inBrowser(page, async () => {
        await page.fill('#email', S.alice.email);
        await Promise.all([page.waitForSelector('input[name="password"]'), page.click('button:has-text("Continue")')]);
        eq((await page.textContent('#signing-in-as')).trim(), S.alice.email, 'signing in as');
        assert(await page.locator('a:has-text("Forgot password?")').count(), 'no Forgot password? link');
        assert(await page.locator('button:has-text("Not you?")').count(), 'no Not you?');
        await axeCheck(page, 'the methods step');
        await shots(page, 'signin-methods');
        await page.fill('input[name="password"]', 'wrong-password-1');
        await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click(PASSWORD_SUBMIT)]);
        assert((await page.textContent('[role="alert"]')).includes('Wrong email or password'), 'no alert');
        eq(await focused(page), 'form-error', 'focused element after a wrong password');
        await axeCheck(page, 'the methods step after a wrong password');
        await shots(page, 'signin-methods-error');
      }),
    );

    await check('sign-in comes back to the account page; axe on it', () =>
      inBrowser(page, async () => {
        await page.fill('input[name="password"]', S.password);
        await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click(PASSWORD_SUBMIT)]);
        assert((await page.textContent('main')).includes(S.alice.email), 'the page does not name the user');
        for (const id of ['profile', 'password', 'sessions', 'identities']) {
          assert(await page.locator(`section#${id}`).count(), `no section ${id}`);
        }
        await axeCheck(page, 'the account page');
        await shots(page, 'account');
      }),
    );

    await check('account: change the name', () =>
      inBrowser(page, async () => {
        await page.fill('#profile-name', 'Alice Pages');
        await submitIn(page, 'profile', 'Save profile');
        assert((await page.textContent('#profile [role="status"]')).includes('saved'), 'no confirmation');
        eq(await page.inputValue('#profile-name'), 'Alice Pages', 'name after saving');
      }),
    );

    await check('account: change the password, the wrong current one refused next to its field (focused), then the right one', () =>
      inBrowser(page, async () => {
        await page.fill('#current-password', 'not-the-password');
        await page.fill('#new-password', NEW_PASSWORD);
        await submitIn(page, 'password', 'Change password');
        eq(await page.getAttribute('#current-password', 'aria-invalid'), 'true', 'aria-invalid');
        eq(await focused(page), 'current-password', 'focused element');
        await axeCheck(page, 'the account page with an error');
        await shots(page, 'account-error');
        await page.fill('#current-password', S.password);
        await page.fill('#new-password', NEW_PASSWORD);
        await submitIn(page, 'password', 'Change password');
        assert((await page.textContent('#password [role="status"]')).includes('changed'), 'no confirmation');
      }),
    );

    const other = await newPage();
    await check('account: the sessions list shows this browser and a second one; signing the second out ends its session', () =>
      inBrowser(page, async () => {
        await signIn(other, S.alice.email, NEW_PASSWORD);
        await page.reload({ waitUntil: 'domcontentloaded' });
        eq(await page.locator('#sessions li.item').count(), 2, 'sessions listed');
        assert(await page.locator('#sessions .badge:has-text("This browser")').count(), 'no "This browser"');
        await submitIn(page, 'sessions', 'Sign out');
        eq(await page.locator('#sessions li.item').count(), 1, 'sessions after signing one out');
        await other.goto(`${S.base}/account`, { waitUntil: 'domcontentloaded' });
        eq(new URL(other.url()).pathname, '/login', 'the signed-out browser is sent to sign in');
      }),
    );

    await check("cross-tenant: this tenant's session cookie on another tenant's host shows nothing of the user", async () => {
      const cookies = await page.context().cookies(S.base);
      const ses = cookies.find((c) => c.name === 'authio_session');
      assert(ses, 'no session cookie');
      const r = await request('GET', `${S.other_base}/account`, { headers: { cookie: `authio_session=${ses.value}` } });
      eq(r.status, 303, 'status');
      assert(new URL(r.headers.location, S.other_base).pathname === '/login', `Location ${r.headers.location}`);
      assert(!r.text.includes(S.alice.email), 'the other tenant shows the user');
    });

    await check('account: unlinking the only way to sign in (an upstream identity, no password) is refused', async () => {
      const carol = await newPage();
      await inBrowser(carol, async () => {
        await signIn(carol, S.carol.email, S.password);
        const now = S.dialect === 'postgres' ? 'now()' : "strftime('%Y-%m-%d %H:%M:%f+00:00','now')";
        await sql(`INSERT INTO identities (id, tenant_id, connection_id, subject, user_id, profile, created_at, updated_at)
          VALUES ('idn_pages_e2e', '${S.tenant_id}', '${S.connection_id}', 'carol-upstream', '${S.carol.id}',
          '{"email":"carol@upstream.test"}', ${now}, ${now})`);
        await sql(`DELETE FROM credentials WHERE user_id = '${S.carol.id}'`);
        await carol.reload({ waitUntil: 'domcontentloaded' });
        assert((await carol.textContent('#identities')).includes('carol@upstream.test'), 'the identity is not listed');
        assert((await carol.textContent('#password')).includes('without a password'), 'the password section offers a change');
        await submitIn(carol, 'identities', 'Unlink');
        assert((await carol.textContent('#identities [role="alert"]')).includes('only way to sign in'), 'no refusal');
        assert((await carol.textContent('#identities')).includes('carol@upstream.test'), 'the identity is gone');
        await axeCheck(carol, 'the account page with a connected account');
        await shots(carol, 'account-identities');
      });
    });
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(`== done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

run(main);
