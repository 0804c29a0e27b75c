// End-to-end test of the DEMO APP that `authio serve --dev` serves on its own origin.
//
// Headless Debian Chromium (through playwright-core) clicks through the app as a newcomer would:
// sign in as the demo user printed by --dev, choose an organization in the hosted picker, see the
// decoded ID and access tokens and the memberships, refresh, switch to the other organization and
// back (each switch brings an ID token for the organization now active), refresh again, and sign out back to
// the app.
// The tokens the page shows are verified here too, with jose against the tenant's JWKS; a token of
// the demo tenant is refused by another tenant, and an unknown host's 404 names the tenant hosts.
//
// Started by scripts/e2e.sh (run_demo), which runs `authio serve --dev` in a fresh directory and
// creates one more tenant with the CLI:
//
//   E2E_DEMO_APP        the demo app's URL as serve --dev printed it (http://app.localhost:PORT/)
//   E2E_DEMO_ISSUER     the demo tenant's issuer (http://demo.localhost:PORT/)
//   E2E_DEMO_EMAIL, E2E_DEMO_PASSWORD   the demo user as serve --dev printed it
//   E2E_OTHER_TENANT    slug of another tenant of the same server
//   E2E_BASE_DOMAIN (default localhost), E2E_LABEL (printed), E2E_CHROMIUM (default /usr/bin/chromium),
//   E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import * as jose from 'jose';
import { chromium } from 'playwright-core';

import {
  configure, need, BASE_DOMAIN, LABEL, CHROMIUM, CHROMIUM_ARGS, request,
  check, assert, eq, sameSet, requireValue, short, inBrowser, run, fillPasswordSignIn, PASSWORD_SUBMIT,
} from './harness.mjs';

configure({ name: 'demo', accept: 'application/json' });

const APP = need('E2E_DEMO_APP').replace(/\/?$/, '/');
const ISSUER = need('E2E_DEMO_ISSUER').replace(/\/?$/, '/');
const EMAIL = need('E2E_DEMO_EMAIL');
const PASSWORD = need('E2E_DEMO_PASSWORD');
const OTHER = need('E2E_OTHER_TENANT');
const PORT = new URL(ISSUER).port;
const OTHER_BASE = `${new URL(ISSUER).protocol}//${OTHER}.${BASE_DOMAIN}${PORT ? ':' + PORT : ''}`;
const API = 'https://api.demo.test';

let keySet; // the tenant's JWKS, fetched once through the harness (Node resolves *.localhost through it)

// What the page shows once it has settled: its state, the decoded tokens and the raw ones.
async function shown(page) {
  await page.waitForFunction(() => ['signed-in', 'signed-out', 'error'].includes(document.body.dataset.state), null, { timeout: 15000 });
  return page.evaluate(() => {
    const json = (sel) => {
      const e = document.querySelector(sel);
      return e && e.textContent ? JSON.parse(e.textContent) : null;
    };
    const shell = Object.fromEntries(
      (document.getElementById('shell').textContent || '')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const i = l.indexOf('=');
          return [l.slice(0, i), l.slice(i + 1).replace(/^'|'$/g, '')];
        }),
    );
    return {
      state: document.body.dataset.state,
      status: document.getElementById('status').textContent,
      access: json('#access-token .payload'),
      accessHeader: json('#access-token .header'),
      id: json('#id-token .payload'),
      accessMeta: document.getElementById('access-meta').textContent,
      idMeta: document.getElementById('id-meta').textContent,
      activeOrg: document.getElementById('active-org').dataset.org || '',
      rows: [...document.querySelectorAll('#memberships tbody tr')].map((tr) => ({
        org: tr.dataset.org,
        active: tr.classList.contains('active'),
        cells: [...tr.cells].map((c) => c.textContent),
      })),
      switches: [...document.querySelectorAll('button[data-switch]')].map((b) => b.dataset.switch),
      shell,
    };
  });
}

// Clicks sel and waits for the app to settle again on new tokens (the access token changes).
async function clickAndSettle(page, sel, before) {
  await page.click(sel);
  await page.waitForFunction(
    (old) => document.body.dataset.state !== 'busy' && (document.body.dataset.state !== 'signed-in' ||
      !document.getElementById('shell').textContent.includes(old)),
    before.shell.ACCESS_TOKEN,
    { timeout: 15000 },
  );
  const s = await shown(page);
  assert(s.state === 'signed-in', `after ${sel}: state ${s.state}, status ${short(s.status)}`);
  assert(s.shell.ACCESS_TOKEN !== before.shell.ACCESS_TOKEN, `after ${sel}: the access token did not change`);
  return s;
}

async function verified(token, what) {
  if (!keySet) {
    const r = await request('GET', `${ISSUER}.well-known/jwks.json`);
    eq(r.status, 200, 'JWKS status');
    keySet = jose.createLocalJWKSet(r.json);
  }
  const { payload, protectedHeader } = await jose.jwtVerify(token, keySet, { issuer: ISSUER });
  return { payload, protectedHeader, what };
}

let latest; // what the page showed last

async function main() {
  console.log(`== Authio demo app e2e ${LABEL ? `[${LABEL}] ` : ''}at ${APP} (tenant ${ISSUER}, other tenant ${OTHER_BASE})`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await check('the demo app opens signed out, on its own origin, set up for the demo tenant', () =>
      inBrowser(page, async () => {
        await page.goto(APP, { waitUntil: 'domcontentloaded' });
        const s = await shown(page);
        eq(s.state, 'signed-out', `state (status: ${s.status})`);
        assert(await page.isVisible('#sign-in'), 'no Sign in button');
        const tenant = await page.textContent('#tenant');
        assert(tenant.includes(ISSUER), `the page names another tenant: ${tenant}`);
        assert(new URL(page.url()).origin !== new URL(ISSUER).origin, 'the app is on the tenant origin');
      }),
    );

    const signedIn = await check('Sign in: the hosted login page, then the organization picker with both organizations', () =>
      inBrowser(page, async () => {
        await page.click('#sign-in');
        await page.waitForURL((u) => u.origin === new URL(ISSUER).origin && u.pathname === '/login', { waitUntil: 'domcontentloaded' });
        await fillPasswordSignIn(page, EMAIL, PASSWORD);
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/authorize/resume', { waitUntil: 'domcontentloaded' }),
          page.click(PASSWORD_SUBMIT),
        ]);
        const choices = await page.$$eval('a.choice', (as) => as.map((a) => a.textContent.trim()));
        assert(choices.length === 2 && choices.some((c) => c.includes('Acme Corp')) && choices.some((c) => c.includes('Globex Inc')),
          `picker choices: ${short(choices)}`);
        return true;
      }),
    );

    const s1 = await check('choosing Acme Corp ends in the app with tokens for Acme (org_id, org_name, admin permissions)', () =>
      inBrowser(page, async () => {
        requireValue(signedIn, 'sign-in');
        await page.click('a.choice:has-text("Acme Corp")');
        await page.waitForURL((u) => u.href.startsWith(APP), { waitUntil: 'domcontentloaded' });
        const s = await shown(page);
        eq(s.state, 'signed-in', `state (status: ${s.status})`);
        eq(new URL(page.url()).pathname, '/', 'the app cleans the callback URL');
        eq(s.access.org_name, 'acme', 'access token org_name');
        assert(/^org_/.test(s.access.org_id), `access token org_id ${s.access.org_id}`);
        sameSet(s.access.permissions, ['read:docs', 'write:docs'], 'access token permissions');
        sameSet(s.access.roles, ['admin'], 'access token roles');
        eq(s.accessHeader.typ, 'at+jwt', 'access token typ');
        eq(s.id.email, EMAIL, 'ID token email');
        eq(s.id.org_id, s.access.org_id, 'ID token org_id');
        assert(/signature valid/.test(s.accessMeta) && /signature valid/.test(s.idMeta),
          `the page did not verify the signatures: ${s.accessMeta} / ${s.idMeta}`);
        assert(s.shell.REFRESH_TOKEN, 'no refresh token (offline_access)');
        return (latest = s);
      }),
    );

    await check('the tokens the page shows verify against the JWKS (issuer, audience, the app as client)', async () => {
      const s = requireValue(s1, 'signed in');
      const at = await verified(s.shell.ACCESS_TOKEN, 'access');
      const aud = [].concat(at.payload.aud);
      assert(aud.includes(API), `access token aud ${short(aud)}`);
      eq(at.payload.client_id, s.shell.CLIENT_ID, 'access token client_id');
      eq(at.payload.sub, s.id.sub, 'same subject');
    });

    await check('the memberships table shows Acme (active, admin) and Globex (member), from /v1/me/memberships', () => {
      const s = requireValue(s1, 'signed in');
      sameSet(s.rows.map((r) => r.org), ['acme', 'globex'], 'organizations');
      const acme = s.rows.find((r) => r.org === 'acme');
      const globex = s.rows.find((r) => r.org === 'globex');
      assert(acme.active && !globex.active, `active rows: ${short(s.rows)}`);
      assert(acme.cells.includes('admin') && globex.cells.includes('member'), `roles: ${short(s.rows)}`);
      eq(s.activeOrg, 'acme', 'active organization');
      sameSet(s.switches, ['globex'], 'switch buttons');
    });

    const s2 = await check('Refresh: new access, ID and refresh tokens (rotation), still for Acme', () =>
      inBrowser(page, async () => {
        const before = requireValue(s1, 'signed in');
        const s = (latest = await clickAndSettle(page, '#refresh', before));
        assert(s.shell.REFRESH_TOKEN && s.shell.REFRESH_TOKEN !== before.shell.REFRESH_TOKEN, 'the refresh token was not rotated');
        eq(s.access.org_name, 'acme', 'org_name after refresh');
        assert(s.idMeta.includes('from a refresh'), `ID token not from the refresh: ${s.idMeta}`);
        await verified(s.shell.ACCESS_TOKEN, 'access');
        return s;
      }),
    );

    const s3 = await check('Switch to Globex: an access token for Globex with the member permissions; Globex active', () =>
      inBrowser(page, async () => {
        const before = requireValue(s2, 'refreshed');
        const s = (latest = await clickAndSettle(page, 'button[data-switch="globex"]', before));
        eq(s.access.org_name, 'globex', 'org_name');
        sameSet(s.access.permissions, ['read:docs'], 'permissions');
        sameSet(s.access.roles, ['member'], 'roles');
        eq(s.access.sub, before.access.sub, 'same user');
        eq(s.access.sid, before.access.sid, 'same sign-in (sid)');
        eq(s.activeOrg, 'globex', 'active organization');
        sameSet(s.switches, ['acme'], 'switch buttons');
        assert(s.shell.REFRESH_TOKEN && s.shell.REFRESH_TOKEN !== before.shell.REFRESH_TOKEN, 'no refresh token for Globex');
        return s;
      }),
    );

    const s4 = await check('Switch back to Acme: Acme tokens again, without signing in', () =>
      inBrowser(page, async () => {
        const before = requireValue(s3, 'switched to Globex');
        const s = (latest = await clickAndSettle(page, 'button[data-switch="acme"]', before));
        eq(s.access.org_name, 'acme', 'org_name');
        sameSet(s.access.permissions, ['read:docs', 'write:docs'], 'permissions');
        eq(s.activeOrg, 'acme', 'active organization');
        eq(new URL(page.url()).origin, new URL(APP).origin, 'stayed in the app');
        return s;
      }),
    );

    await check('switch to Globex: the switch brings an ID token for Globex (same sign-in), and so does a Refresh with its refresh token', () =>
      inBrowser(page, async () => {
        const before = requireValue(s4, 'back in Acme');
        let s = (latest = await clickAndSettle(page, 'button[data-switch="globex"]', before));
        const globexID = s.access.org_id;
        eq(s.id.org_id, globexID, 'ID token org_id after the switch');
        assert(s.idMeta.includes('from a switch'), `ID token not from the switch: ${s.idMeta}`);
        eq(s.id.sid, before.id.sid, 'ID token sid (the same sign-in)');
        eq(s.id.auth_time, before.id.auth_time, 'ID token auth_time (the same sign-in)');
        s = latest = await clickAndSettle(page, '#refresh', s);
        eq(s.id.org_id, globexID, 'ID token org_id after the refresh');
        eq(s.access.org_name, 'globex', 'access token org_name after the refresh');
      }),
    );

    await check('a token of the demo tenant is refused by another tenant (401 at its /v1/me/memberships)', async () => {
      const s = requireValue(latest, 'signed in'); // the newest tokens: a refresh revokes the access tokens before it
      const r = await request('GET', `${OTHER_BASE}/v1/me/memberships`, { bearer: s.shell.ACCESS_TOKEN });
      eq(r.status, 401, `status (${short(r.text)})`);
      const own = await request('GET', `${ISSUER}v1/me/memberships`, { bearer: s.shell.ACCESS_TOKEN });
      eq(own.status, 200, `the same token on its own tenant (${short(own.text)})`);
    });

    await check('the app refuses an issuer that is not a tenant host of this server', () =>
      inBrowser(page, async () => {
        const p2 = await ctx.newPage();
        try {
          await p2.goto(`${APP}?issuer=${encodeURIComponent('http://example.com/')}&client_id=cli_x`, { waitUntil: 'domcontentloaded' });
          await p2.waitForFunction(() => document.getElementById('status').textContent !== '', null, { timeout: 15000 });
          const msg = await p2.textContent('#status');
          assert(/not a tenant of this server/.test(msg), `status: ${msg}`);
        } finally {
          await p2.close();
        }
      }),
    );

    await check('in --dev, an unknown host gets a 404 that names the tenant hosts', async () => {
      const r = await request('GET', `http://nope.${BASE_DOMAIN}${PORT ? ':' + PORT : ''}/.well-known/openid-configuration`);
      eq(r.status, 404, 'status');
      eq(r.json && r.json.error, 'not_found', 'error');
      const hosts = (r.json && r.json.hosts) || [];
      assert(hosts.includes(new URL(ISSUER).host) && hosts.includes(new URL(OTHER_BASE).host), `hosts: ${short(hosts)}`);
    });

    await check('Sign out: RP-initiated logout, back to the app, signed out; signing in again asks for the password', () =>
      inBrowser(page, async () => {
        requireValue(s1, 'signed in');
        await page.click('#sign-out');
        // "Signed out." is shown only on the way back from the tenant, with the state this tab sent.
        await page.waitForFunction(() => document.getElementById('status').textContent === 'Signed out.', null, { timeout: 15000 });
        const s = await shown(page);
        eq(new URL(page.url()).href, APP, 'back at the app, URL cleaned');
        eq(s.state, 'signed-out', 'state');
        eq(s.status, 'Signed out.', 'status');
        await page.click('#sign-in');
        await page.waitForURL((u) => u.origin === new URL(ISSUER).origin, { waitUntil: 'domcontentloaded' });
        eq(new URL(page.url()).pathname, '/login', 'the session ended: the login form again');
      }),
    );

    await check('no script errors in the app', () => {
      assert(pageErrors.length === 0, short(pageErrors));
    });
  } finally {
    await browser.close();
  }
}

run(main);
