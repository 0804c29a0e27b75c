// The oidc-client-ts page of sdk.mjs (bundled by esbuild at test time). On /oidc.html the test drives a
// UserManager through window.oidcApp; on /oidc-silent.html (the silent_redirect_uri, loaded in the hidden
// iframe of signinSilent) it hands the response to the parent. window.SDK_CONFIG comes from the test's
// app server (/config.js).
//
//   call(tenant, method, ...args)   await manager(tenant)[method](...args) -> { ok, value } or
//                                   { ok: false, error, error_description, message }
//   start(tenant, method, ...args)  for methods that navigate away (signinRedirect, signoutRedirect)
// A User comes back as { profile, access_token, id_token, refresh_token, scope, expires_at }.

import { UserManager } from 'oidc-client-ts';

const cfg = window.SDK_CONFIG;
const origin = window.location.origin;
const managers = new Map();

function manager(tenant) {
  if (!managers.has(tenant)) {
    const t = cfg.tenants[tenant];
    managers.set(
      tenant,
      new UserManager({
        authority: t.issuer, // with the trailing slash, as the tenant publishes it
        client_id: cfg.clients.oidc[tenant],
        redirect_uri: `${origin}/oidc.html`,
        silent_redirect_uri: `${origin}/oidc-silent.html`,
        post_logout_redirect_uri: `${origin}/logged-out.html`,
        response_type: 'code',
        scope: 'openid profile email',
        loadUserInfo: true,
        automaticSilentRenew: false,
        silentRequestTimeoutInSeconds: 10,
      }),
    );
  }
  return managers.get(tenant);
}

function plain(v) {
  if (v && typeof v === 'object' && 'access_token' in v && 'profile' in v) {
    const { profile, access_token, id_token, refresh_token, scope, expires_at } = v;
    return { profile, access_token, id_token, refresh_token, scope, expires_at };
  }
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

async function settle(fn) {
  try {
    return { ok: true, value: plain(await fn()) };
  } catch (e) {
    return {
      ok: false,
      error: (e && e.error) || '',
      error_description: (e && e.error_description) || '',
      message: String((e && e.message) || e),
    };
  }
}

if (window.location.pathname === '/oidc-silent.html') {
  // any manager reads the stored request by its state and posts the URL to the parent
  manager('acme').signinCallback().catch((e) => {
    document.getElementById('status').textContent = `silent callback failed: ${e.message}`;
  });
} else {
  window.oidcApp = {
    call(tenant, method, ...args) {
      return settle(() => manager(tenant)[method](...args));
    },
    start(tenant, method, ...args) {
      window.oidcStartError = null;
      manager(tenant)[method](...args).catch((e) => {
        window.oidcStartError = String((e && e.message) || e);
      });
    },
  };
  document.getElementById('status').textContent = 'ready';
}
