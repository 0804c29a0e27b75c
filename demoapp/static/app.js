// The Authio demo app: a public client (authorization code + PKCE S256, no secret) that runs entirely in this
// page. It talks to the tenant over HTTP from the browser (CORS: this origin is the client's web origin) and keeps
// its tokens in sessionStorage of its own origin. No framework, no third-party code.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const PREFIX = 'authio-demo:';
  const store = {
    get(k) {
      try {
        return JSON.parse(sessionStorage.getItem(PREFIX + k));
      } catch {
        return null;
      }
    },
    set(k, v) {
      sessionStorage.setItem(PREFIX + k, JSON.stringify(v));
    },
    del(k) {
      sessionStorage.removeItem(PREFIX + k);
    },
  };

  let cfg; // {issuer, client_id, audience, organization, tenant_hosts}
  let meta; // the tenant's discovery document
  let jwks; // the tenant's keys, once fetched

  // ------------------------------------------------------------------ encoding and crypto

  function b64url(bytes) {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function unb64url(s) {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function random(n = 32) {
    const a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return b64url(a);
  }

  async function s256(verifier) {
    if (!crypto.subtle) {
      throw new Error('this page is not a secure context (crypto.subtle is missing): open it on http://app.localhost or over https');
    }
    return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  }

  function decodeJWT(jwt) {
    const [h, p] = String(jwt).split('.');
    const json = (part) => JSON.parse(new TextDecoder().decode(unb64url(part)));
    return { header: json(h), payload: json(p) };
  }

  // verifyJWT checks the signature against the tenant's JWKS: "valid", "INVALID" or why it could not tell.
  async function verifyJWT(jwt) {
    if (!crypto.subtle) return 'not checked (no crypto.subtle)';
    const [h, p, sig] = jwt.split('.');
    const { header } = decodeJWT(jwt);
    if (!jwks) jwks = await getJSON(meta.jwks_uri);
    const jwk = (jwks.keys || []).find((k) => k.kid === header.kid);
    if (!jwk) return `no key ${header.kid} in the JWKS`;
    let importAlg, verifyAlg;
    if (header.alg === 'RS256') {
      importAlg = verifyAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    } else if (header.alg === 'ES256') {
      importAlg = { name: 'ECDSA', namedCurve: 'P-256' };
      verifyAlg = { name: 'ECDSA', hash: 'SHA-256' };
    } else {
      return `alg ${header.alg} not checked here`;
    }
    const { kty, n, e, crv, x, y } = jwk;
    const key = await crypto.subtle.importKey('jwk', { kty, n, e, crv, x, y }, importAlg, false, ['verify']);
    const ok = await crypto.subtle.verify(verifyAlg, key, unb64url(sig), new TextEncoder().encode(`${h}.${p}`));
    return ok ? `valid (${header.alg}, ${header.kid})` : 'INVALID';
  }

  // ------------------------------------------------------------------ HTTP

  async function readJSON(r, what) {
    let body;
    try {
      body = await r.json();
    } catch {
      body = {};
    }
    log(`${what} → ${r.status}`);
    if (!r.ok) {
      const msg = body.error ? `${body.error}${body.error_description ? ': ' + body.error_description : ''}` : `HTTP ${r.status}`;
      throw new Error(`${what}: ${msg}`);
    }
    return body;
  }

  async function getJSON(url, token) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    return readJSON(await fetch(url, { headers }), `GET ${new URL(url).pathname}`);
  }

  async function tokenRequest(form) {
    const r = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return readJSON(r, `POST ${new URL(meta.token_endpoint).pathname} (${form.grant_type})`);
  }

  // ------------------------------------------------------------------ settings

  // The app signs in to the demo tenant unless /?issuer=…&client_id=… points it at another tenant of this
  // server (the README's walkthrough); the choice lasts for this tab.
  async function loadConfig() {
    const base = await (await fetch('/config.json')).json();
    const q = new URLSearchParams(location.search);
    if (location.pathname === '/' && q.has('reset')) {
      store.del('settings');
      store.del('session');
      history.replaceState(null, '', '/');
    } else if (location.pathname === '/' && q.has('issuer')) {
      let issuer = q.get('issuer');
      if (!issuer.endsWith('/')) issuer += '/';
      const u = new URL(issuer);
      if (u.protocol !== new URL(base.issuer).protocol || !('.' + u.host).endsWith(base.tenant_hosts) || u.pathname !== '/') {
        throw new Error(`issuer ${issuer} is not a tenant of this server (*${base.tenant_hosts})`);
      }
      if (!q.get('client_id')) throw new Error('client_id is missing');
      store.set('settings', {
        issuer,
        client_id: q.get('client_id'),
        audience: q.get('audience') || '',
        organization: q.get('organization') || '',
        tenant_hosts: base.tenant_hosts,
      });
      store.del('session');
      history.replaceState(null, '', '/');
    }
    cfg = store.get('settings') || base;
    const t = $('tenant');
    t.textContent = `Tenant ${cfg.issuer} · client ${cfg.client_id}${cfg.audience ? ' · audience ' + cfg.audience : ''} `;
    if (store.get('settings')) {
      const a = document.createElement('a');
      a.href = '/?reset';
      a.textContent = '(back to the demo tenant)';
      t.append(a);
    }
    meta = await getJSON(cfg.issuer + '.well-known/openid-configuration');
    if (meta.issuer !== cfg.issuer) throw new Error(`discovery names issuer ${meta.issuer}, not ${cfg.issuer}`);
  }

  // ------------------------------------------------------------------ the flows

  const redirectURI = () => location.origin + '/callback';

  async function signIn() {
    const pending = { verifier: random(32), state: random(16), nonce: random(16), issuer: cfg.issuer };
    const u = new URL(meta.authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: cfg.client_id,
      redirect_uri: redirectURI(),
      scope: 'openid profile email offline_access', // offline_access: a refresh token
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await s256(pending.verifier),
      code_challenge_method: 'S256',
    };
    if (cfg.audience) params.audience = cfg.audience;
    if (cfg.organization) params.organization = cfg.organization;
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    store.set('pending', pending);
    location.assign(u.href);
  }

  async function callback() {
    const q = new URLSearchParams(location.search);
    const pending = store.get('pending');
    store.del('pending');
    history.replaceState(null, '', '/');
    if (!pending || q.get('state') !== pending.state) throw new Error('the callback does not answer a sign-in of this tab (state)');
    if (q.get('error')) throw new Error(`sign-in refused: ${q.get('error')}${q.get('error_description') ? ': ' + q.get('error_description') : ''}`);
    // RFC 9207: the answer names the issuer that sent it.
    if (q.has('iss') && q.get('iss') !== cfg.issuer) throw new Error(`the callback came from ${q.get('iss')}, not ${cfg.issuer}`);
    const t = await tokenRequest({
      grant_type: 'authorization_code',
      code: q.get('code'),
      redirect_uri: redirectURI(),
      client_id: cfg.client_id,
      code_verifier: pending.verifier,
    });
    if (decodeJWT(t.id_token).payload.nonce !== pending.nonce) throw new Error('the ID token does not carry the nonce of this sign-in');
    saveTokens(t, 'the sign-in');
    log('signed in');
  }

  function saveTokens(t, idFrom) {
    const old = store.get('session') || {};
    store.set('session', {
      access_token: t.access_token,
      refresh_token: t.refresh_token || old.refresh_token,
      id_token: t.id_token || old.id_token,
      id_from: t.id_token ? idFrom : old.id_from,
      access_from: idFrom,
      expires_at: Date.now() + 1000 * (t.expires_in || 0),
    });
  }

  async function refresh() {
    const s = store.get('session');
    const t = await tokenRequest({ grant_type: 'refresh_token', refresh_token: s.refresh_token, client_id: cfg.client_id });
    saveTokens(t, 'a refresh');
  }

  async function switchTo(org) {
    const s = store.get('session');
    const r = await fetch(cfg.issuer + 'v1/sessions/switch-org', {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ organization_id: org.id, refresh_token: s.refresh_token }),
    });
    const t = await readJSON(r, `POST /v1/sessions/switch-org (${org.name})`);
    saveTokens(t, `a switch to ${org.display_name || org.name}`);
  }

  function signOut() {
    const s = store.get('session');
    const state = random(16);
    store.del('session');
    store.set('logout', state);
    const u = new URL(meta.end_session_endpoint);
    if (s && s.id_token) u.searchParams.set('id_token_hint', s.id_token);
    u.searchParams.set('client_id', cfg.client_id);
    u.searchParams.set('post_logout_redirect_uri', location.origin + '/');
    u.searchParams.set('state', state);
    location.assign(u.href);
  }

  // ------------------------------------------------------------------ rendering

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    e.append(...children);
    return e;
  }

  function log(msg) {
    const l = $('log');
    if (l) l.append(el('li', {}, `${new Date().toLocaleTimeString()} ${msg}`));
  }

  function status(msg, isError) {
    const s = $('status');
    s.textContent = msg || '';
    s.className = isError ? 'error' : '';
  }

  async function showJWT(box, metaEl, jwt, from) {
    const { header, payload } = decodeJWT(jwt);
    box.replaceChildren(
      el('div', {}, el('h4', {}, 'Header'), el('pre', { class: 'header' }, JSON.stringify(header, null, 2))),
      el('div', {}, el('h4', {}, 'Payload'), el('pre', { class: 'payload' }, JSON.stringify(payload, null, 2))),
    );
    const left = Math.round((payload.exp * 1000 - Date.now()) / 1000);
    metaEl.textContent = `from ${from} · ${left > 0 ? `expires in ${left} s` : 'expired'} · signature checking…`;
    let sig;
    try {
      sig = await verifyJWT(jwt);
    } catch (e) {
      sig = `not checked (${e.message})`;
    }
    metaEl.textContent = `from ${from} · ${left > 0 ? `expires in ${left} s` : 'expired'} · signature ${sig}`;
  }

  async function render() {
    const s = store.get('session');
    $('signed-out').hidden = !!s;
    $('signed-in').hidden = !s;
    if (!s) {
      document.body.dataset.state = 'signed-out';
      return;
    }
    const access = decodeJWT(s.access_token).payload;
    await showJWT($('access-token'), $('access-meta'), s.access_token, s.access_from);
    await showJWT($('id-token'), $('id-meta'), s.id_token, s.id_from);
    $('refresh-token').textContent = s.refresh_token || '(none: offline_access was not granted)';
    $('refresh').disabled = !s.refresh_token;
    $('shell').textContent =
      `ISSUER='${cfg.issuer}'\nCLIENT_ID='${cfg.client_id}'\nACCESS_TOKEN='${s.access_token}'\n` +
      (s.refresh_token ? `REFRESH_TOKEN='${s.refresh_token}'\n` : '');

    const { memberships } = await getJSON(cfg.issuer + 'v1/me/memberships', s.access_token);
    const tbody = $('memberships').tBodies[0];
    const buttons = $('switch-buttons');
    tbody.replaceChildren();
    buttons.replaceChildren();
    let active = null;
    for (const m of memberships) {
      const o = m.organization;
      const isActive = o.id === access.org_id;
      if (isActive) active = o;
      tbody.append(
        el(
          'tr',
          { class: isActive ? 'active' : '', 'data-org': o.name },
          el('td', {}, o.display_name || o.name),
          el('td', {}, el('code', {}, o.name)),
          el('td', {}, m.status),
          el('td', {}, (m.roles || []).join(', ') || '—'),
          el('td', {}, isActive ? 'active' : ''),
        ),
      );
      if (!isActive && m.status === 'active') {
        const b = el('button', { type: 'button', class: 'secondary', 'data-switch': o.name }, `Switch to ${o.display_name || o.name}`);
        b.addEventListener('click', () => act(() => switchTo(o)));
        buttons.append(b);
      }
    }
    $('active-org').textContent = active ? `${active.display_name || active.name} (${active.id})` : 'none (a token without org_id)';
    $('active-org').dataset.org = active ? active.name : '';
    document.body.dataset.state = 'signed-in';
  }

  // act runs one user action: buttons off, then the result or the error, then the page again.
  async function act(fn) {
    document.body.dataset.state = 'busy';
    for (const b of document.querySelectorAll('button')) b.disabled = true;
    status('');
    try {
      await fn();
    } catch (e) {
      status(e.message, true);
    }
    for (const b of document.querySelectorAll('button')) b.disabled = false;
    try {
      await render();
    } catch (e) {
      status(e.message, true);
      document.body.dataset.state = 'error';
    }
  }

  async function main() {
    $('sign-in').addEventListener('click', () => act(signIn));
    $('refresh').addEventListener('click', () => act(refresh));
    $('sign-out').addEventListener('click', () => act(async () => signOut()));
    $('copy-shell').addEventListener('click', () => navigator.clipboard.writeText($('shell').textContent).catch(() => {}));
    try {
      await loadConfig();
      if (location.pathname === '/callback') {
        await callback();
      } else {
        const q = new URLSearchParams(location.search);
        const expected = store.get('logout');
        if (expected && q.has('state')) {
          store.del('logout');
          history.replaceState(null, '', '/');
          if (q.get('state') !== expected) throw new Error('the sign-out answer does not match this tab (state)');
          status('Signed out.');
        }
      }
    } catch (e) {
      status(e.message, true);
    }
    try {
      await render();
    } catch (e) {
      status(e.message, true);
      document.body.dataset.state = 'error';
    }
  }

  main();
})();
