// What the end-to-end client scripts (e2e.mjs, orgs.mjs) share: reading the environment,
// HTTP from Node to *.localhost tenants, the checks and their report, and the run itself.
//
//   configure({ name, accept, loopbackHosts })   what differs between the scripts: the name in
//       need()'s message, request()'s default Accept header, host names besides *.localhost
//       that Node resolves to 127.0.0.1
//   need(name)                     a required environment variable (exits 2 without it)
//   BASE_DOMAIN, SCHEME, LABEL, CHROMIUM, CHROMIUM_ARGS   the common settings
//   lookup, request(method, url, { headers, form, json, bearer, basic })   HTTP without redirects;
//       importing this module also makes openid-client resolve through lookup
//   check(name, fn)                runs one check: prints "ok   name" or "FAIL name: why"
//   assert, eq, sameSet, status, requireValue, short, isAt, inBrowser(page, fn)   for checks
//   run(main, atExit)              runs main under the E2E_TIMEOUT_SECONDS watchdog, prints the
//       failures and "N passed, M failed", exits 1 on any failure (atExit runs first)

import dns from 'node:dns';
import http from 'node:http';

import { custom, errors as oidcErrors } from 'openid-client';

// ---------------------------------------------------------------- configuration

const conf = { name: 'e2e', accept: 'application/json', loopbackHosts: [] };

export function configure(c) {
  Object.assign(conf, c);
}

export function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${conf.name}: missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

export const BASE_DOMAIN = process.env.E2E_BASE_DOMAIN || 'localhost';
export const SCHEME = process.env.E2E_SCHEME || 'http';
export const LABEL = process.env.E2E_LABEL || '';
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_S = Number(process.env.E2E_TIMEOUT_SECONDS || 300);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------- HTTP from Node
// Chromium resolves *.localhost to loopback itself; Node's resolver may not. Every HTTP
// request made from Node (openid-client and request below) goes through this lookup.

export function lookup(hostname, options, cb) {
  if (typeof options === 'function') {
    cb = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  }
  options = options || {};
  const h = String(hostname).toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost') || conf.loopbackHosts.includes(h)) {
    if (options.all) return cb(null, [{ address: '127.0.0.1', family: 4 }]);
    return cb(null, '127.0.0.1', 4);
  }
  return dns.lookup(hostname, options, cb);
}

custom.setHttpOptionsDefaults({ lookup, timeout: 15000 });

// Plain HTTP without following redirects; the body is a form or JSON. Returns { status, headers, text, json }.
export function request(method, url, { headers = {}, form, json, bearer, basic } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { Accept: conf.accept, ...headers };
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (json !== undefined) {
      body = JSON.stringify(json);
      h['Content-Type'] = 'application/json';
    }
    if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
    if (bearer) h.Authorization = `Bearer ${bearer}`;
    if (basic) {
      const enc = (s) => encodeURIComponent(s);
      h.Authorization = 'Basic ' + Buffer.from(`${enc(basic[0])}:${enc(basic[1])}`).toString('base64');
    }
    const req = http.request(
      { method, hostname: u.hostname, port: u.port || 80, path: u.pathname + u.search, headers: h, lookup, timeout: 15000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------- checks

let passed = 0;
let failed = 0;
const failures = [];

export function short(v, n = 300) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > n ? s.slice(0, n) + '…' : s;
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${short(expected)}, got ${short(actual)}`);
}

export function sameSet(actual, expected, what) {
  const a = [...(Array.isArray(actual) ? actual : [])].sort();
  const e = [...expected].sort();
  if (!Array.isArray(actual) || a.length !== e.length || a.some((v, i) => v !== e[i])) {
    throw new Error(`${what}: expected ${short(e)}, got ${short(actual)}`);
  }
}

export function status(r, want, what) {
  const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  if (!ok) throw new Error(`${what}: expected HTTP ${[].concat(want).join('|')}, got ${r.status} ${short(r.text)}`);
}

export function requireValue(v, what) {
  if (v === undefined || v === null) throw new Error(`prerequisite failed: ${what}`);
  return v;
}

export function isAt(urlStr, prefix) {
  return urlStr === prefix || urlStr.startsWith(prefix + '?') || urlStr.startsWith(prefix + '#');
}

// The hosted sign-in page is email first: the email step (an email field and Continue), then the methods step
// with the password form. PASSWORD_SUBMIT is that form's button (the methods step's first form is "Not you?").
export const PASSWORD_SUBMIT = 'form:has(input[name="password"]) button[type="submit"]';

// fillPasswordSignIn does the email step when the page shows it (the email, Continue) and fills the password
// form of the methods step; the caller clicks PASSWORD_SUBMIT (after setting up its own navigation waiter).
export async function fillPasswordSignIn(page, email, password, timeout = 15000) {
  await page.waitForSelector('input[name="email"], input[name="password"]', { timeout });
  if (await page.$('input[name="step"][value="identify"]')) {
    await page.fill('#email', email);
    await Promise.all([
      page.waitForSelector('input[name="password"]', { timeout }),
      page.click('form:has(input[name="step"][value="identify"]) button[type="submit"]'),
    ]);
  }
  await page.fill('input[name="password"]', password);
}

// goBack is the browser's Back button once the current page has settled. Chromium swaps renderer processes on
// a cross-site navigation (the tenant domain to the app's callback), and a history call made while the page is
// between processes fails with "Not attached to an active page"; waiting for the load event, and one retry of
// that transient error, makes Back behave as a user's click would.
export async function goBack(page, timeout = 15000) {
  await page.waitForLoadState('load', { timeout }).catch(() => {});
  try {
    return await page.goBack({ waitUntil: 'domcontentloaded', timeout });
  } catch (e) {
    if (!/Not attached to an active page/i.test(String(e && e.message))) throw e;
    await page.waitForLoadState('load', { timeout }).catch(() => {});
    return page.goBack({ waitUntil: 'domcontentloaded', timeout });
  }
}

let currentPage = null;

export async function check(name, fn) {
  try {
    const v = await fn();
    passed++;
    console.log(`ok   ${name}`);
    return v;
  } catch (e) {
    failed++;
    let msg = e && e.message ? e.message : String(e);
    if (e instanceof oidcErrors.OPError) {
      msg = `OPError ${e.error}${e.error_description ? ` (${e.error_description})` : ''} HTTP ${e.response?.statusCode}`;
    }
    if (e && e.browser && currentPage) {
      try {
        const text = await currentPage.evaluate(() => document.body && document.body.innerText);
        msg += ` [browser at ${currentPage.url()}; page text: ${short((text || '').replace(/\s+/g, ' '), 400)}]`;
      } catch {
        /* ignore */
      }
    }
    failures.push(`${name}: ${msg}`);
    console.log(`FAIL ${name}: ${msg}`);
    return undefined;
  }
}

// Runs fn with page as the page to describe if it fails (its URL and text join the report).
export async function inBrowser(page, fn) {
  currentPage = page;
  try {
    return await fn();
  } catch (e) {
    if (e && typeof e === 'object') e.browser = true;
    throw e;
  }
}

// ---------------------------------------------------------------- the run

export function run(main, atExit = () => {}) {
  const watchdog = setTimeout(() => {
    failed++;
    console.log(`FAIL whole run: timed out after ${TIMEOUT_S} s`);
    finish();
  }, TIMEOUT_S * 1000);

  function finish() {
    clearTimeout(watchdog);
    atExit();
    if (failures.length) {
      console.log('-- failures:');
      for (const f of failures) console.log(`   ${f}`);
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }

  main().then(finish, (e) => {
    failed++;
    console.log(`FAIL aborted: ${e && e.stack ? e.stack : e}`);
    finish();
  });
}
