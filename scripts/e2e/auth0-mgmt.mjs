// End-to-end test of the MANAGEMENT API through Auth0's own Node SDK, the `auth0` npm package, in two majors
// installed side by side under npm aliases: auth0-v4 (4.x, hand-written managers) and auth0-v7 (7.x, generated
// clients with async iterators over pages). Each is configured the usual way, with a domain, a client id and a
// client secret only: the SDK fetches its own token with client credentials and audience
// https://{domain}/api/v2/, as it would on Auth0, then goes through users (create with a connection and Auth0's
// fields, get, update, list to the end, delete), clients (create with Auth0's fields, get, update, list, delete),
// organizations (create, list by checkpoint over more than 50, members add/list/remove), roles with
// permissions, connections and the log, iterated to the end; and the AuthenticationClient's client-credentials
// grant (v7 ships it as `auth0/legacy`). Another tenant's Management API URL as audience, and another tenant's
// credentials, are refused.
//
// The one concession to the test rig: the SDKs build https:// URLs from the domain and the server here speaks
// plain http on *.localhost, which Node's resolver does not know. Both SDKs take a `fetch` option (their
// documented hook for a custom fetch implementation); httpFetch below is that fetch: it sends the request over
// http to 127.0.0.1 with the same Host. Nothing else about the SDKs is changed.
//
// Started by scripts/e2e.sh, which creates the tenants and clients with the CLI and writes them to a JSON file:
//
//   E2E_PORT             port Authio listens on (127.0.0.1)
//   E2E_MGMT_SETUP       path of the setup file (see mgmt_setup in scripts/e2e.sh):
//     tenant, other_tenant     slugs of tenant A and of another tenant B
//     client, other_client     {id, secret}: confidential clients with client_credentials, allowed the audience
//                              urn:authio:management with the Management API scopes, of A and of B
//   E2E_BASE_DOMAIN (default localhost), E2E_LABEL (printed), E2E_TIMEOUT_SECONDS (default 300)
//
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import http from 'node:http';

import { ManagementClient as ManagementClientV4, AuthenticationClient as AuthenticationClientV4 } from 'auth0-v4';
import { ManagementClient as ManagementClientV7 } from 'auth0-v7';
import { AuthenticationClient as AuthenticationClientV7 } from 'auth0-v7/legacy';

import {
  configure, need, BASE_DOMAIN, SCHEME, LABEL, lookup, request, check, assert, eq, sameSet, status, requireValue, short, run,
} from './harness.mjs';

configure({ name: 'auth0-mgmt', accept: 'application/json' });

const PORT = need('E2E_PORT');
const S = JSON.parse(fs.readFileSync(need('E2E_MGMT_SETUP'), 'utf8'));
const DOMAIN = `${S.tenant}.${BASE_DOMAIN}:${PORT}`; // what an SDK is given, as an Auth0 domain
const OTHER_DOMAIN = `${S.other_tenant}.${BASE_DOMAIN}:${PORT}`;
const DB = 'Username-Password-Authentication';
const MGMT = 'urn:authio:management';

// ---------------------------------------------------------------- the SDKs' fetch

async function bodyBytes(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  return Buffer.from(await new Response(body).arrayBuffer());
}

// httpFetch is a WHATWG fetch that sends https://<tenant host>/… over plain http to 127.0.0.1 (see above).
async function httpFetch(input, init = {}) {
  const req = input instanceof Request ? input : undefined;
  const url = new URL(req ? req.url : String(input));
  if (url.protocol === 'https:') url.protocol = 'http:';
  const headers = new Headers(init.headers ?? req?.headers ?? {});
  const method = init.method ?? req?.method ?? 'GET';
  const body = await bodyBytes(init.body ?? (req && req.body ? await req.arrayBuffer() : undefined));
  const signal = init.signal ?? req?.signal;
  const h = Object.fromEntries(headers);
  if (body) h['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const r = http.request({ method, hostname: url.hostname, port: url.port || 80, path: url.pathname + url.search, headers: h, lookup },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) out.set(k, Array.isArray(v) ? v.join(', ') : v);
          const nobody = res.statusCode === 204 || res.statusCode === 304 || method === 'HEAD';
          resolve(new Response(nobody ? null : Buffer.concat(chunks), { status: res.statusCode, statusText: res.statusMessage, headers: out }));
        });
        res.on('error', reject);
      });
    signal?.addEventListener('abort', () => r.destroy(signal.reason ?? new Error('aborted')));
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

// ---------------------------------------------------------------- helpers

function jwtClaims(token) {
  return JSON.parse(Buffer.from(String(token).split('.')[1], 'base64url').toString('utf8'));
}

// statusOf returns the HTTP status an SDK error carries (v4: statusCode; v7: statusCode), or undefined.
const statusOf = (e) => e?.statusCode ?? e?.status ?? e?.response?.status;

// Expects fn to fail with HTTP status want; returns the error.
async function rejects(fn, want, what) {
  try {
    await fn();
  } catch (e) {
    eq(statusOf(e), want, `${what}: status (${short(e?.body ?? e?.message)})`);
    return e;
  }
  throw new Error(`${what}: succeeded, expected HTTP ${want}`);
}

// An SDK error's body as an object (v4 keeps the text, v7 the parsed JSON).
function errorBody(e) {
  const b = e?.body;
  if (typeof b === 'string') {
    try {
      return JSON.parse(b);
    } catch {
      return { text: b };
    }
  }
  return b ?? {};
}

const uniq = () => Math.random().toString(36).slice(2, 8);

// What both majors must do, given small adapters over their different method shapes.
async function suite(v, sdk) {
  const tag = `${v}-${uniq()}`;
  const label = (s) => `${v}: ${s}`;

  // ---- Authentication API: the client-credentials grant, as the Management SDK's token provider does it.
  await check(label(`AuthenticationClient client_credentials with audience https://${DOMAIN}/api/v2/`), async () => {
    const tk = await sdk.clientCredentials(DOMAIN, S.client, `https://${DOMAIN}/api/v2/`);
    assert(tk.access_token, `no access_token: ${short(tk)}`);
    const c = jwtClaims(tk.access_token);
    eq(JSON.stringify(c.aud), JSON.stringify([`https://${DOMAIN}/api/v2/`]), 'aud (the audience as asked)');
    eq(c.iss, `http://${DOMAIN}/`, 'iss');
    for (const s of ['read:users', 'create:organizations', 'read:logs']) {
      assert(String(tk.scope).split(' ').includes(s), `scope ${s} missing from ${tk.scope} (no scope asked: every scope the client is granted)`);
    }
  });
  await check(label('AuthenticationClient: another tenant\'s /api/v2/ URL as audience is access_denied'), async () => {
    const e = await rejects(() => sdk.clientCredentials(DOMAIN, S.client, `https://${OTHER_DOMAIN}/api/v2/`), 403, 'token for another tenant');
    eq(errorBody(e).error, 'access_denied', 'error');
  });
  await check(label('AuthenticationClient: another tenant\'s credentials are invalid_client here'), async () => {
    await rejects(() => sdk.clientCredentials(DOMAIN, S.other_client, `https://${DOMAIN}/api/v2/`), 401, 'foreign client');
  });

  const m = sdk.management(DOMAIN, S.client);

  // ---- users
  const created = [];
  const user = await check(label('users.create with connection and Auth0 fields'), async () => {
    const u = await sdk.createUser(m, {
      connection: DB, email: `jane-${tag}@acme.test`, password: 'correct horse battery staple', given_name: 'Jane', family_name: 'Doe',
      name: 'Jane Doe', nickname: 'jd', picture: 'https://img.acme.test/jane.png', email_verified: true,
      user_metadata: { theme: 'dark' }, app_metadata: { plan: 'pro' },
    });
    assert(String(u.user_id).startsWith('user_'), `user_id ${u.user_id}`);
    eq(u.email, `jane-${tag}@acme.test`, 'email');
    eq(u.given_name, 'Jane', 'given_name');
    eq(u.family_name, 'Doe', 'family_name');
    eq(u.nickname, 'jd', 'nickname');
    eq(u.email_verified, true, 'email_verified');
    eq(u.user_metadata?.theme, 'dark', 'user_metadata.theme');
    eq(u.app_metadata?.plan, 'pro', 'app_metadata.plan');
    eq(u.identities?.[0]?.connection, DB, 'identities[0].connection');
    eq(u.identities?.[0]?.provider, 'auth0', 'identities[0].provider');
    eq(u.identities?.[0]?.isSocial, false, 'identities[0].isSocial');
    created.push(u.user_id);
    return u;
  });
  await check(label('users.create with an unknown connection is a 400 naming it'), async () => {
    const e = await rejects(() => sdk.createUser(m, { connection: 'no-such-db', email: `x-${tag}@acme.test`, password: 'correct horse battery' }), 400, 'unknown connection');
    assert(String(errorBody(e).message).includes('no-such-db'), `message ${short(errorBody(e))}`);
  });
  await check(label('users.get'), async () => {
    const u = await sdk.getUser(m, requireValue(user, 'created user').user_id);
    eq(u.user_id, user.user_id, 'user_id');
    eq(u.name, 'Jane Doe', 'name');
  });
  await check(label('users.update merges metadata'), async () => {
    const u = await sdk.updateUser(m, requireValue(user, 'created user').user_id, { family_name: 'Roe', user_metadata: { lang: 'fr' } });
    eq(u.family_name, 'Roe', 'family_name');
    eq(u.user_metadata?.theme, 'dark', 'user_metadata.theme kept');
    eq(u.user_metadata?.lang, 'fr', 'user_metadata.lang added');
  });
  for (let i = 0; i < 4; i++) {
    const u = await check(label(`users.create #${i + 2}`), () => sdk.createUser(m, { connection: DB, email: `u${i}-${tag}@acme.test`, password: 'correct horse battery' }));
    if (u) created.push(u.user_id);
  }
  await check(label('users.list page by page (2 per page) to the end'), async () => {
    const all = await sdk.listUsers(m, 2);
    const ids = all.map((u) => u.user_id);
    eq(new Set(ids).size, ids.length, 'no user listed twice');
    for (const id of created) assert(ids.includes(id), `user ${id} missing from ${ids.length} listed`);
  });

  // ---- clients
  const spa = await check(label('clients.create spa with Auth0 fields'), async () => {
    const c = await sdk.createClient(m, {
      name: `spa-${tag}`, app_type: 'spa', callbacks: ['https://app.acme.test/callback'], allowed_logout_urls: ['https://app.acme.test/'],
      web_origins: ['https://app.acme.test'], allowed_origins: ['https://admin.acme.test'], organization_usage: 'allow',
      organization_require_behavior: 'post_login_prompt',
    });
    eq(c.app_type, 'spa', 'app_type');
    eq(c.token_endpoint_auth_method, 'none', 'token_endpoint_auth_method');
    sameSet(c.grant_types, ['authorization_code', 'refresh_token'], 'grant_types');
    sameSet(c.allowed_origins, ['https://admin.acme.test'], 'allowed_origins');
    eq(c.organization_usage, 'allow', 'organization_usage');
    assert(!c.client_secret, 'a spa got a client_secret');
    return c;
  });
  const worker = await check(label('clients.create non_interactive gets a secret that works'), async () => {
    const c = await sdk.createClient(m, { name: `worker-${tag}`, app_type: 'non_interactive' });
    eq(c.token_endpoint_auth_method, 'client_secret_post', 'token_endpoint_auth_method');
    sameSet(c.grant_types, ['client_credentials'], 'grant_types');
    assert(c.client_secret && c.client_secret.length >= 40, 'no client_secret');
    const r = await request('POST', `${SCHEME}://${DOMAIN}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret },
    });
    status(r, 200, 'client_credentials with the new secret');
    return c;
  });
  await check(label('clients.get and clients.update'), async () => {
    const id = requireValue(spa, 'spa').client_id;
    eq((await sdk.getClient(m, id)).name, `spa-${tag}`, 'name');
    const c = await sdk.updateClient(m, id, { callbacks: ['https://app.acme.test/callback', 'https://app.acme.test/cb2'], app_type: 'native' });
    eq(c.callbacks.length, 2, 'callbacks');
    eq(c.app_type, 'native', 'app_type');
  });
  await check(label('clients.list to the end'), async () => {
    const ids = (await sdk.listClients(m)).map((c) => c.client_id);
    for (const c of [spa, worker]) assert(ids.includes(requireValue(c, 'client').client_id), `client missing from ${ids.length} listed`);
    assert(ids.includes(S.client.id), 'the SDK\'s own client is not listed');
  });
  await check(label('clients.delete'), async () => {
    await sdk.deleteClient(m, requireValue(worker, 'worker').client_id);
    await rejects(() => sdk.getClient(m, worker.client_id), 404, 'deleted client');
  });

  // ---- organizations: more than 50, listed by checkpoint to the end
  const orgIDs = [];
  await check(label('organizations.create × 55'), async () => {
    for (let i = 0; i < 55; i++) {
      const o = await sdk.createOrganization(m, { name: `${tag}-org-${i}`, display_name: `Org ${i}` });
      assert(String(o.id).startsWith('org_'), `id ${o.id}`);
      orgIDs.push(o.id);
    }
  });
  await check(label('organizations.list by checkpoint to the end (more than 50)'), async () => {
    const all = await sdk.listOrganizations(m);
    const ids = all.map((o) => o.id);
    eq(new Set(ids).size, ids.length, 'no organization listed twice');
    assert(ids.length > 50, `only ${ids.length} organizations listed`);
    for (const id of orgIDs) assert(ids.includes(id), `organization ${id} missing from ${ids.length} listed`);
  });
  await check(label('organizations members add, list, remove'), async () => {
    const org = requireValue(orgIDs[0], 'an organization');
    await sdk.addMembers(m, org, created.slice(0, 3));
    sameSet((await sdk.listMembers(m, org)).map((x) => x.user_id), created.slice(0, 3), 'members');
    await sdk.removeMembers(m, org, [created[0]]);
    sameSet((await sdk.listMembers(m, org)).map((x) => x.user_id), created.slice(1, 3), 'members after removal');
  });

  // ---- roles and permissions
  await check(label('roles.create, permissions add/list, users roles assign/list'), async () => {
    const role = await sdk.createRole(m, { name: `reader-${tag}`, description: 'Reads users' });
    await sdk.addPermissions(m, role.id, [{ resource_server_identifier: MGMT, permission_name: 'read:users' }]);
    const perms = await sdk.listPermissions(m, role.id);
    eq(perms.length, 1, 'permissions');
    eq(perms[0].permission_name, 'read:users', 'permission_name');
    eq(perms[0].resource_server_identifier, MGMT, 'resource_server_identifier');
    await sdk.assignRoles(m, created[1], [role.id]);
    sameSet((await sdk.listUserRoles(m, created[1])).map((r) => r.id), [role.id], 'user roles');
  });

  // ---- connections
  await check(label('connections.list'), async () => {
    const names = (await sdk.listConnections(m)).map((c) => c.name);
    assert(names.includes(DB), `${DB} missing from ${short(names)}`);
  });

  // ---- the log, to the end
  await check(label('logs.list to the end'), async () => {
    const { items, total } = await sdk.listLogs(m);
    const ids = items.map((l) => l.log_id);
    eq(new Set(ids).size, ids.length, 'no event listed twice');
    assert(ids.length >= total && total > 0, `${ids.length} events listed, total ${total}`);
    assert(items.some((l) => l.type === 'organization.created'), 'no organization.created event');
  });
  if (sdk.logsCheckpoint) {
    await check(label('logs by checkpoint (from, take) to the end'), async () => {
      const all = await sdk.logsCheckpoint(m);
      const ids = all.map((l) => l.log_id);
      eq(new Set(ids).size, ids.length, 'no event listed twice');
      assert(ids.length > 55, `only ${ids.length} events`);
    });
  }

  // ---- users.delete, and another tenant sees nothing of it
  await check(label('another tenant\'s Management API token cannot read this tenant\'s user'), async () => {
    const other = sdk.management(OTHER_DOMAIN, S.other_client);
    await rejects(() => sdk.getUser(other, requireValue(user, 'user').user_id), 404, 'foreign user');
  });
  await check(label('users.delete'), async () => {
    await sdk.deleteUser(m, requireValue(user, 'user').user_id);
    await rejects(() => sdk.getUser(m, user.user_id), 404, 'deleted user');
  });
}

// ---------------------------------------------------------------- v4: managers answering { data }

async function collectCheckpoints(page) {
  const out = [];
  let from;
  for (let i = 0; i < 1000; i++) {
    const { items, next } = await page(from);
    out.push(...items);
    if (!next) return out;
    from = next;
  }
  throw new Error('checkpoint paging does not end');
}

const v4 = {
  management: (domain, c) => new ManagementClientV4({ domain, clientId: c.id, clientSecret: c.secret, fetch: httpFetch }),
  clientCredentials: async (domain, c, audience) => {
    const auth = new AuthenticationClientV4({ domain, clientId: c.id, clientSecret: c.secret, fetch: httpFetch });
    return (await auth.oauth.clientCredentialsGrant({ audience })).data;
  },
  createUser: async (m, body) => (await m.users.create(body)).data,
  getUser: async (m, id) => (await m.users.get({ id })).data,
  updateUser: async (m, id, body) => (await m.users.update({ id }, body)).data,
  deleteUser: (m, id) => m.users.delete({ id }),
  listUsers: async (m, perPage) => {
    const out = [];
    for (let page = 0; page < 1000; page++) {
      const { data } = await m.users.getAll({ page, per_page: perPage, include_totals: true });
      out.push(...data.users);
      if (data.users.length < perPage || out.length >= data.total) return out;
    }
    throw new Error('user paging does not end');
  },
  createClient: async (m, body) => (await m.clients.create(body)).data,
  getClient: async (m, id) => (await m.clients.get({ client_id: id })).data,
  updateClient: async (m, id, body) => (await m.clients.update({ client_id: id }, body)).data,
  deleteClient: (m, id) => m.clients.delete({ client_id: id }),
  listClients: async (m) => {
    const out = [];
    for (let page = 0; page < 1000; page++) {
      const { data } = await m.clients.getAll({ page, per_page: 50, include_totals: true });
      out.push(...data.clients);
      if (out.length >= data.total || data.clients.length === 0) return out;
    }
    throw new Error('client paging does not end');
  },
  createOrganization: async (m, body) => (await m.organizations.create(body)).data,
  listOrganizations: (m) => collectCheckpoints(async (from) => {
    const { data } = await m.organizations.getAll({ take: 50, ...(from ? { from } : {}) });
    return { items: data.organizations, next: data.next };
  }),
  addMembers: (m, id, members) => m.organizations.addMembers({ id }, { members }),
  removeMembers: (m, id, members) => m.organizations.deleteMembers({ id }, { members }),
  listMembers: (m, id) => collectCheckpoints(async (from) => {
    const { data } = await m.organizations.getMembers({ id, take: 50, ...(from ? { from } : {}) });
    return { items: data.members, next: data.next };
  }),
  createRole: async (m, body) => (await m.roles.create(body)).data,
  addPermissions: (m, id, permissions) => m.roles.addPermissions({ id }, { permissions }),
  listPermissions: async (m, id) => (await m.roles.getPermissions({ id })).data,
  assignRoles: (m, id, roles) => m.users.assignRoles({ id }, { roles }),
  listUserRoles: async (m, id) => (await m.users.getRoles({ id })).data,
  listConnections: async (m) => (await m.connections.getAll()).data,
  listLogs: async (m) => {
    const out = [];
    let total = 0;
    for (let page = 0; page < 1000; page++) {
      const { data } = await m.logs.getAll({ page, per_page: 100, include_totals: true });
      total = data.total;
      out.push(...data.logs);
      if (data.logs.length < 100) return { items: out, total };
    }
    throw new Error('log paging does not end');
  },
  logsCheckpoint: async (m) => {
    const out = [];
    let from;
    for (let i = 0; i < 1000; i++) {
      const { data } = await m.logs.getAll({ take: 100, ...(from ? { from } : {}) });
      assert(Array.isArray(data), `checkpoint page is not an array: ${short(data)}`);
      if (data.length === 0) return out;
      out.push(...data);
      from = data[data.length - 1].log_id;
    }
    throw new Error('log checkpoints do not end');
  },
};

// ---------------------------------------------------------------- v7: generated clients, pages as async iterators

async function all(pagePromise) {
  const out = [];
  for await (const item of await pagePromise) {
    out.push(item);
    if (out.length > 100000) throw new Error('the iterator does not end');
  }
  return out;
}

const v7 = {
  management: (domain, c) => new ManagementClientV7({ domain, clientId: c.id, clientSecret: c.secret, fetch: httpFetch }),
  clientCredentials: async (domain, c, audience) => {
    const auth = new AuthenticationClientV7({ domain, clientId: c.id, clientSecret: c.secret, fetch: httpFetch });
    return (await auth.oauth.clientCredentialsGrant({ audience })).data;
  },
  createUser: (m, body) => m.users.create(body),
  getUser: (m, id) => m.users.get(id),
  updateUser: (m, id, body) => m.users.update(id, body),
  deleteUser: (m, id) => m.users.delete(id),
  listUsers: (m, perPage) => all(m.users.list({ per_page: perPage })),
  createClient: (m, body) => m.clients.create(body),
  getClient: (m, id) => m.clients.get(id),
  updateClient: (m, id, body) => m.clients.update(id, body),
  deleteClient: (m, id) => m.clients.delete(id),
  listClients: (m) => all(m.clients.list()),
  createOrganization: (m, body) => m.organizations.create(body),
  listOrganizations: (m) => all(m.organizations.list()),
  addMembers: (m, id, members) => m.organizations.members.create(id, { members }),
  removeMembers: (m, id, members) => m.organizations.members.delete(id, { members }),
  listMembers: (m, id) => all(m.organizations.members.list(id)),
  createRole: (m, body) => m.roles.create(body),
  addPermissions: (m, id, permissions) => m.roles.permissions.add(id, { permissions }),
  listPermissions: (m, id) => all(m.roles.permissions.list(id)),
  assignRoles: (m, id, roles) => m.users.roles.assign(id, { roles }),
  listUserRoles: (m, id) => all(m.users.roles.list(id)),
  listConnections: (m) => all(m.connections.list()),
  listLogs: async (m) => {
    const first = await m.logs.list({ per_page: 1 });
    const total = first.response?.total ?? 0;
    return { items: await all(m.logs.list()), total };
  },
};

// ---------------------------------------------------------------- the run

run(async () => {
  const t0 = Date.now();
  console.log(`== Authio Management API e2e with Auth0's Node SDK${LABEL ? ` [${LABEL}]` : ''} against ${SCHEME}://${DOMAIN} (other tenant ${SCHEME}://${OTHER_DOMAIN})`);
  await suite('v4', v4);
  await suite('v7', v7);
  console.log(`== done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
