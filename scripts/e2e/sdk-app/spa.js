// The auth0-spa-js page of sdk.mjs (bundled by esbuild at test time). The test drives the real SDK
// through window.sdk, holding any number of named Auth0Client instances in this page:
//
//   create(name, options, { checkSession })   new Auth0Client(options), or createAuth0Client(options)
//                                             (which runs checkSession) -> { ok, value: { ms } }
//   call(name, method, ...args)               await client[method](...args) -> { ok, value } or
//                                             { ok: false, error, error_description, message, type }
//   start(name, method, ...args)              for methods that navigate away (loginWithRedirect, logout)
//
// Errors come back as values because the SDK's GenericError fields (error, error_description) do not
// survive page.evaluate's serialization of a thrown error.

import { Auth0Client, createAuth0Client } from '@auth0/auth0-spa-js';

const clients = new Map();

function describe(e) {
  return {
    ok: false,
    error: (e && e.error) || '',
    error_description: (e && e.error_description) || '',
    message: String((e && e.message) || e),
    type: (e && e.constructor && e.constructor.name) || typeof e,
  };
}

async function settle(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return describe(e);
  }
}

function client(name) {
  const c = clients.get(name);
  if (!c) throw new Error(`no client named ${name} in this page`);
  return c;
}

window.sdk = {
  create(name, options, { checkSession = false } = {}) {
    return settle(async () => {
      const t0 = performance.now();
      clients.set(name, checkSession ? await createAuth0Client(options) : new Auth0Client(options));
      return { ms: Math.round(performance.now() - t0) };
    });
  },
  call(name, method, ...args) {
    return settle(() => client(name)[method](...args));
  },
  start(name, method, ...args) {
    window.sdkStartError = null;
    Promise.resolve()
      .then(() => client(name)[method](...args))
      .catch((e) => {
        window.sdkStartError = describe(e);
      });
  },
};

document.getElementById('status').textContent = 'ready';
