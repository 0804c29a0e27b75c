#!/usr/bin/env bash
# End-to-end test of Authio: builds bin/authio, then for each backend
#   sqlite    SQLite in a temp file, no Redis (in-process cache)
#   postgres  PostgreSQL (fresh database authio_e2e) + Redis db 1, plus a second replica
# migrates, creates tenants acme/globex, a user and clients with the CLI, starts `authio serve`
# and runs scripts/e2e/e2e.mjs (headless Chromium + openid-client + jose) against it; then sets up
# organizations on two more tenants (orgs, rival) with the CLI and runs scripts/e2e/orgs.mjs
# (organization tokens, switch-org, RFC 8693 token exchange, picker, Management API, audit log);
# then sets up two more tenants on *.sdk.localhost and runs scripts/e2e/sdk.mjs (the real browser SDKs
# @auth0/auth0-spa-js, @auth0/auth0-react and oidc-client-ts in pages served from app.sdk.localhost).
# Once (with sqlite): `authio serve --dev` in a fresh directory and scripts/e2e/demo.mjs, which clicks
# through the demo app it serves on app.localhost (sign-in, picker, tokens, refresh, switch, sign-out);
# then scripts/readme-check.sh, which runs the README's walkthrough blocks against a fresh serve --dev.
# Per backend also: two more tenants (sdkmgmt, sdkrival) with a machine client each and scripts/e2e/auth0-mgmt.mjs
# (the Management API through Auth0's Node SDK, the `auth0` package in majors 4 and 7).
#
# Usage: bash scripts/e2e.sh [sqlite|postgres|all]      (default: all)
# Env:   E2E_TIMEOUT (whole run, seconds, default 600), E2E_KEEP=1 keeps the temp dirs,
#        E2E_BIN=/path/to/authio tests that binary instead of building bin/authio,
#        E2E_MJS=/path/to/script.mjs runs another client script instead of scripts/e2e/e2e.mjs,
#        E2E_ORGS_MJS=/path/to/script.mjs the same for scripts/e2e/orgs.mjs (E2E_ORGS=0 skips it),
#        E2E_DEMO=0 skips the demo app run, E2E_README=0 the README check,
#        E2E_SDK_MJS=/path/to/script.mjs the same for scripts/e2e/sdk.mjs,
#        E2E_MGMT_MJS=/path/to/script.mjs the same for scripts/e2e/auth0-mgmt.mjs (E2E_MGMT=0 skips it),
#        E2E_SUITES (default "e2e orgs sdk mgmt pages email reset mfa passkey upstream") the client scripts to run, e.g. E2E_SUITES=sdk,
#        E2E_ARTIFACTS (default scripts/e2e/out) where pages.mjs saves its screenshots,
#        E2E_PG (default postgres://postgres@127.0.0.1:5432), E2E_PG_DB (default authio_e2e),
#        E2E_REDIS_URL (default redis://127.0.0.1:6379/1; it is FLUSHDB'ed).
# Needs: go, node >= 20, npm, curl, jq, psql, redis-cli, /usr/bin/chromium, Debian python3-jwt and python3-authlib.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# ---- bound the whole run in time
if [[ -z "${E2E_INNER:-}" ]]; then
  export E2E_INNER=1
  rc=0
  timeout --kill-after=20 "${E2E_TIMEOUT:-600}" bash "$0" "$@" || rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "e2e: TIMED OUT after ${E2E_TIMEOUT:-600} s"
    echo "e2e: 0 passed, 1 failed"
  fi
  exit "$rc"
fi

WHICH="${1:-all}"
SUITES=" ${E2E_SUITES:-e2e orgs sdk mgmt pages email reset mfa passkey upstream} "
SUITES="${SUITES//,/ }"
want() { [[ "$SUITES" == *" $1 "* ]]; }
case "$WHICH" in sqlite | postgres | all) ;; *)
  echo "usage: $0 [sqlite|postgres|all]" >&2
  exit 2
  ;;
esac

BIN="${E2E_BIN:-$ROOT/bin/authio}"
E2E_DIR="$ROOT/scripts/e2e"
PG_BASE="${E2E_PG:-postgres://postgres@127.0.0.1:5432}"
PG_DB="${E2E_PG_DB:-authio_e2e}"
REDIS_URL="${E2E_REDIS_URL:-redis://127.0.0.1:6379/1}"

USER_EMAIL="alice@acme.test"
ACME_AUDIENCE="https://api.acme.test"
EXTRA_DOMAIN="auth.acme.test"
SAME_SITE_DOMAIN="auth.spa.localhost" # acme's domain on the same site as the app at spa.localhost (web_message)
GLOBEX_ALG="ES256"
USER_PASSWORD="Corr3ct-Horse-Battery!"
# organizations (orgs.mjs): fresh tenants, so e2e.mjs's sign-in lockout on acme does not reach them
ORGS_TENANT="orgs"
ORGS_OTHER_TENANT="rival"
ORGS_API="https://api.orgs.test"
# real browser SDKs (sdk.mjs): tenants on acme.$SDK_DOMAIN and globex.$SDK_DOMAIN, the app on app.$SDK_DOMAIN
# (one site for cookies, as sdk.localhost is the registrable name: silent sign-in in an iframe sees the session)
SDK_DOMAIN="sdk.localhost"
SDK_TENANT="sdk-acme"
SDK_OTHER_TENANT="sdk-globex"
SDK_API="https://api.sdk.test"
# Management API through Auth0's Node SDK (auth0-mgmt.mjs): two more fresh tenants, and the scopes its client is granted
MGMT_TENANT="sdkmgmt"
MGMT_OTHER_TENANT="sdkrival"
MGMT_SCOPES="read:users,create:users,update:users,delete:users,read:clients,create:clients,update:clients,delete:clients"
MGMT_SCOPES+=",read:organizations,create:organizations,update:organizations,delete:organizations"
MGMT_SCOPES+=",read:organization_members,create:organization_members,delete:organization_members"
MGMT_SCOPES+=",read:roles,create:roles,update:roles,delete:roles,read:connections,read:logs,read:resource_servers"

TOTAL_PASS=0
TOTAL_FAIL=0
SERVER_PIDS=()
SERVER_LOGS=()
WORKDIRS=()
WORK=""
USED_PORTS=" "
SUMMARY_DONE=""

log() { echo "e2e: $*"; }

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}

dump_logs() {
  local f
  for f in "${SERVER_LOGS[@]}" ${WORK:+"$WORK/cli.log"}; do
    [[ -s "$f" ]] || continue
    echo "---------------- tail of $f"
    tail -n 80 "$f" || true
  done
  echo "----------------"
}

cleanup() {
  local rc=$?
  stop_servers
  if [[ $rc -ne 0 ]]; then
    [[ -n "$SUMMARY_DONE" ]] || dump_logs
    [[ ${#WORKDIRS[@]} -gt 0 ]] && log "kept temp dirs for inspection: ${WORKDIRS[*]}"
  elif [[ -z "${E2E_KEEP:-}" ]]; then
    local d
    for d in "${WORKDIRS[@]}"; do rm -rf "$d"; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port LO HI -> sets PICKED to a port nobody listens on and we have not handed out
pick_port() {
  local p
  for ((p = $1; p <= $2; p++)); do
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! port_busy "$p"; then
      USED_PORTS+="$p "
      PICKED=$p
      return 0
    fi
  done
  echo "e2e: no free port in $1-$2" >&2
  return 1
}

# cli ARGS... : runs bin/authio, stdout is its JSON, stderr goes to the CLI log
cli() {
  echo "+ authio $*" >>"$WORK/cli.log"
  "$BIN" "$@" 2>>"$WORK/cli.log"
}

# jget JSON FILTER : one value out of a CLI answer, or fail loudly
jget() {
  local v
  if ! v="$(jq -er "$2" <<<"$1" 2>/dev/null)"; then
    echo "e2e: cannot read $2 from CLI output: $1" >&2
    return 1
  fi
  printf '%s' "$v"
}

uri() { jq -rn --arg s "$1" '$s|@uri'; }

start_server() { # NAME PORT ADMIN_PORT
  local name=$1 port=$2 admin=$3
  local logf="$WORK/server-$name.log"
  AUTHIO_LISTEN="127.0.0.1:$port" AUTHIO_ADMIN_LISTEN="127.0.0.1:$admin" "$BIN" serve >"$logf" 2>&1 &
  local pid=$!
  SERVER_PIDS+=("$pid")
  SERVER_LOGS+=("$logf")
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if curl -fsS -m 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      log "server $name (pid $pid) is up on 127.0.0.1:$port, admin 127.0.0.1:$admin"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server $name exited before answering /healthz"
      return 1
    fi
    sleep 0.2
  done
  log "server $name did not answer /healthz within 30 s"
  return 1
}

# record a result line in the same format as e2e.mjs
R_PASS=0
R_FAIL=0
ok() {
  R_PASS=$((R_PASS + 1))
  echo "ok   $*"
}
nok() {
  R_FAIL=$((R_FAIL + 1))
  echo "FAIL $*"
}

jwt_kid() { node -e 'try{console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[0],"base64url")).kid||"")}catch{console.log("")}' "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- build and dependencies
if [[ -z "${E2E_BIN:-}" ]]; then
  log "building bin/authio"
  go build -o bin/authio .
fi

npm_missing=""
for m in $(jq -r '.dependencies | keys[]' "$E2E_DIR/package.json"); do
  [[ -d "$E2E_DIR/node_modules/$m" ]] || npm_missing=1
done
if [[ -n "$npm_missing" ]]; then
  log "npm ci in scripts/e2e"
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
fi

# add_counts OUTFILE RC : adds the "N passed, M failed" line of a client script to the totals
# (a script that died without it counts as one failure); sets LAST_FAIL
add_counts() {
  local counts p=0 f=1
  counts="$(tail -n 1 "$1" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p')"
  if [[ -n "$counts" ]]; then read -r p f <<<"$counts"; fi
  [[ $2 -ne 0 && $f -eq 0 ]] && f=1
  TOTAL_PASS=$((TOTAL_PASS + p))
  TOTAL_FAIL=$((TOTAL_FAIL + f))
  LAST_FAIL=$f
}

# ---- organizations: setup with the CLI, then scripts/e2e/orgs.mjs

# ocli ARGS... : cli, but a failure names the command (the setup below stops at the first one)
ocli() {
  local out
  if ! out="$(cli "$@")"; then
    echo "e2e: authio $* failed:" >&2
    tail -n 5 "$WORK/cli.log" >&2
    return 1
  fi
  printf '%s' "$out"
}

# orgs_setup REDIRECT_URI FILE : tenant $ORGS_TENANT with an API, roles admin/member, organizations
# acme, globex, initech, users alice (admin in Acme, member in Globex, suspended in Initech), bob
# (member in Globex), carol (member in Acme), clients app (allow, token exchange), picker (require)
# and machine (in Globex), an API key; tenant $ORGS_OTHER_TENANT with a user and a client. Writes what
# orgs.mjs needs to FILE. Called in an `if`, so errexit is off: every step says `|| return 1`.
orgs_setup() {
  local redirect=$1 file=$2 t=$ORGS_TENANT o=$ORGS_OTHER_TENANT mgmt="urn:authio:management"
  local admin member acme globex initech alice bob carol other app picker machine rival key
  ocli tenant create --slug "$t" --name "Orgs E2E" >/dev/null || return 1
  ocli tenant create --slug "$o" --name "Rival E2E" >/dev/null || return 1
  ocli api create --tenant "$t" --identifier "$ORGS_API" --name "Docs API" --scope read:docs --scope write:docs >/dev/null || return 1
  admin="$(ocli role create --tenant "$t" --name admin --description "Organization administrator" \
    --permission "$ORGS_API:read:docs" --permission "$ORGS_API:write:docs" \
    --permission "$mgmt:read:organizations" --permission "$mgmt:read:organization_members")" || return 1
  member="$(ocli role create --tenant "$t" --name member --permission "$ORGS_API:read:docs")" || return 1
  acme="$(ocli org create --tenant "$t" --name acme --display-name "Acme Corp")" || return 1
  globex="$(ocli org create --tenant "$t" --name globex --display-name "Globex Inc")" || return 1
  initech="$(ocli org create --tenant "$t" --name initech --display-name "Initech LLC")" || return 1
  alice="$(ocli user create --tenant "$t" --email alice@orgs.test --password "$USER_PASSWORD" --name "Alice")" || return 1
  bob="$(ocli user create --tenant "$t" --email bob@orgs.test --password "$USER_PASSWORD" --name "Bob")" || return 1
  carol="$(ocli user create --tenant "$t" --email carol@orgs.test --password "$USER_PASSWORD" --name "Carol")" || return 1
  other="$(ocli user create --tenant "$o" --email alice@orgs.test --password "$USER_PASSWORD" --name "Alice elsewhere")" || return 1
  local m_a1 m_a2 m_a3 m_b m_c
  m_a1="$(ocli member add --tenant "$t" --org acme --email alice@orgs.test --role admin)" || return 1
  m_a2="$(ocli member add --tenant "$t" --org globex --email alice@orgs.test --role member)" || return 1
  m_a3="$(ocli member add --tenant "$t" --org initech --email alice@orgs.test --role member --status suspended)" || return 1
  m_b="$(ocli member add --tenant "$t" --org globex --email bob@orgs.test --role member)" || return 1
  m_c="$(ocli member add --tenant "$t" --org acme --email carol@orgs.test --role member)" || return 1
  if ! jq -e '.status == "suspended" and (.roles | map(.name)) == ["member"]' <<<"$m_a3" >/dev/null; then
    echo "e2e: member add --status suspended printed: $m_a3" >&2
    return 1
  fi
  app="$(ocli client create --tenant "$t" --name orgs-app --type public --redirect-uri "$redirect" \
    --grant authorization_code,refresh_token,token_exchange --audience "$ORGS_API" --audience "$mgmt" \
    --organization-usage allow)" || return 1
  picker="$(ocli client create --tenant "$t" --name orgs-picker --type public --redirect-uri "$redirect" \
    --grant authorization_code,refresh_token --audience "$ORGS_API" --organization-usage require)" || return 1
  machine="$(ocli client create --tenant "$t" --name orgs-worker --type confidential --grant client_credentials \
    --audience "$ORGS_API" --organization-usage allow)" || return 1
  ocli org add-client --tenant "$t" --org globex --client "$(jget "$machine" .client_id)" >/dev/null || return 1
  rival="$(ocli client create --tenant "$o" --name rival-app --type public --redirect-uri "$redirect" \
    --grant authorization_code,refresh_token,token_exchange --organization-usage allow)" || return 1
  key="$(ocli apikey create --tenant "$t" --name e2e)" || return 1
  jq -n --arg t "$t" --arg o "$o" --arg api "$ORGS_API" --arg pw "$USER_PASSWORD" \
    --argjson admin "$admin" --argjson member "$member" \
    --argjson acme "$acme" --argjson globex "$globex" --argjson initech "$initech" \
    --argjson alice "$alice" --argjson bob "$bob" --argjson carol "$carol" --argjson other "$other" \
    --argjson ma "$(jq -s 'map(.id)' <<<"$m_a1$m_a2$m_a3")" --argjson mb "$(jq -s 'map(.id)' <<<"$m_b")" \
    --argjson mc "$(jq -s 'map(.id)' <<<"$m_c")" \
    --argjson app "$app" --argjson picker "$picker" --argjson machine "$machine" --argjson rival "$rival" \
    --argjson key "$key" '
    def perms: [.permissions[] | select(.resource_server_identifier == $api) | .permission_name];
    def org: {id, name, display_name};
    def user($m): {id, email, membership_ids: $m};
    {tenant: $t, other_tenant: $o, api: $api, password: $pw,
     roles: {admin: ($admin | {id, permissions: perms}), member: ($member | {id, permissions: perms})},
     orgs: {acme: ($acme | org), globex: ($globex | org), initech: ($initech | org)},
     users: {alice: ($alice | user($ma)), bob: ($bob | user($mb)), carol: ($carol | user($mc)), other: ($other | user([]))},
     clients: {app: $app.client_id, picker: $picker.client_id, other: $rival.client_id,
               machine: {id: $machine.client_id, secret: $machine.client_secret}},
     api_key: $key.key}' >"$file" || return 1
  jq -e '[.. | select(. == null or . == "")] | length == 0' "$file" >/dev/null || { echo "e2e: incomplete orgs setup: $(cat "$file")" >&2; return 1; }
}

# run_orgs KIND PORT : sets up organizations and runs orgs.mjs against the server on PORT; sets LAST_FAIL
run_orgs() {
  local kind=$1 port=$2 cb setup="$WORK/orgs-setup.json" outf="$WORK/orgs.out" rc=0
  pick_port 18100 18119; cb=$PICKED
  echo
  echo "== organizations ($kind): tenants $ORGS_TENANT and $ORGS_OTHER_TENANT, callback port $cb"
  if ! orgs_setup "http://127.0.0.1:$cb/callback" "$setup"; then
    echo "FAIL organizations setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  log "organizations set up: $(jq -c '{orgs: (.orgs | map_values(.id)), users: (.users | map_values(.id)), clients: (.clients | .machine = .machine.id)}' "$setup")"
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_CALLBACK_PORT="$cb" E2E_ORGS_SETUP="$setup" \
    E2E_BASE_DOMAIN=localhost E2E_SCHEME=http E2E_TIMEOUT_SECONDS=180 \
    node "${E2E_ORGS_MJS:-$E2E_DIR/orgs.mjs}" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# ---- the demo app of serve --dev: scripts/e2e/demo.mjs

# run_demo : `authio serve --dev` in a fresh directory (its own ./authio.db and .authio-dev-secret, none of the
# backends' settings), one more tenant made there with the CLI, then demo.mjs with the demo user and app URL that
# serve --dev printed. Adds to the totals.
run_demo() {
  local dir port pid outf rc=0 app issuer email password
  dir="$(mktemp -d /tmp/authio-e2e-demo.XXXXXX)"
  WORKDIRS+=("$dir")
  WORK="$dir"
  SERVER_LOGS=()
  pick_port 18080 18099; port=$PICKED
  echo
  echo "======== demo app: serve --dev in $dir on port $port"
  (cd "$dir" && exec env -u AUTHIO_SECRET_KEY -u AUTHIO_DATABASE_URL -u AUTHIO_REDIS_URL -u AUTHIO_ADMIN_LISTEN \
    AUTHIO_LISTEN="127.0.0.1:$port" AUTHIO_BASE_DOMAIN=localhost AUTHIO_PUBLIC_SCHEME=http \
    "$BIN" serve --dev >"$dir/dev.out" 2>"$dir/server-dev.log") &
  pid=$!
  SERVER_PIDS+=("$pid")
  SERVER_LOGS+=("$dir/server-dev.log" "$dir/dev.out")
  local deadline=$((SECONDS + 30))
  until grep -q '^  Demo app ' "$dir/dev.out" 2>/dev/null && curl -fsS -m 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
      echo "FAIL serve --dev did not start (log: $dir/server-dev.log)"
      TOTAL_FAIL=$((TOTAL_FAIL + 1))
      stop_servers
      return 0
    fi
    sleep 0.2
  done
  app="$(sed -nE 's/^  Demo app +([^ ]+).*/\1/p' "$dir/dev.out")"
  issuer="$(sed -nE 's/^  Demo tenant +([^ ]+).*/\1/p' "$dir/dev.out")"
  email="$(sed -nE 's|^  Demo user +([^ ]+) / ([^ ]+).*|\1|p' "$dir/dev.out")"
  password="$(sed -nE 's|^  Demo user +([^ ]+) / ([^ ]+).*|\2|p' "$dir/dev.out")"
  log "serve --dev printed: app $app, tenant $issuer, user $email"
  if ! (cd "$dir" && env -u AUTHIO_SECRET_KEY -u AUTHIO_DATABASE_URL -u AUTHIO_REDIS_URL "$BIN" tenant create --slug other \
    >>"$dir/cli.log" 2>&1); then
    echo "FAIL authio tenant create next to serve --dev (log: $dir/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    stop_servers
    return 0
  fi
  outf="$dir/demo.out"
  E2E_LABEL=dev E2E_DEMO_APP="$app" E2E_DEMO_ISSUER="$issuer" E2E_DEMO_EMAIL="$email" E2E_DEMO_PASSWORD="$password" \
    E2E_OTHER_TENANT=other E2E_BASE_DOMAIN=localhost E2E_TIMEOUT_SECONDS=120 \
    node "$E2E_DIR/demo.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
  [[ $LAST_FAIL -eq 0 ]] || dump_logs
  stop_servers
}

# ---- real browser SDKs: setup with the CLI, then scripts/e2e/sdk.mjs

# sdk_setup APP_ORIGIN FILE : tenant $SDK_TENANT on acme.$SDK_DOMAIN with an API, organizations northwind
# and contoso, user alice (member of both), public clients spa (token exchange, organizations allowed),
# react and oidc for the app's pages; tenant $SDK_OTHER_TENANT on globex.$SDK_DOMAIN with a user of the same
# email and its own spa and oidc clients. Every client registers APP_ORIGIN as its web origin. Writes what
# sdk.mjs needs to FILE. Called in an `if`, so errexit is off: every step says `|| return 1`.
sdk_setup() {
  local app=$1 file=$2 t=$SDK_TENANT o=$SDK_OTHER_TENANT
  local acme globex north contoso alice other spa react oidc gspa goidc
  acme="$(ocli tenant create --slug "$t" --name "SDK Acme" --domain "acme.$SDK_DOMAIN")" || return 1
  globex="$(ocli tenant create --slug "$o" --name "SDK Globex" --domain "globex.$SDK_DOMAIN")" || return 1
  ocli api create --tenant "$t" --identifier "$SDK_API" --name "SDK API" --scope read:docs >/dev/null || return 1
  ocli role create --tenant "$t" --name member --permission "$SDK_API:read:docs" >/dev/null || return 1
  north="$(ocli org create --tenant "$t" --name northwind --display-name "Northwind")" || return 1
  contoso="$(ocli org create --tenant "$t" --name contoso --display-name "Contoso")" || return 1
  alice="$(ocli user create --tenant "$t" --email alice@sdk.test --password "$USER_PASSWORD" --name "Alice")" || return 1
  other="$(ocli user create --tenant "$o" --email alice@sdk.test --password "$USER_PASSWORD" --name "Alice at Globex")" || return 1
  ocli member add --tenant "$t" --org northwind --email alice@sdk.test --role member >/dev/null || return 1
  ocli member add --tenant "$t" --org contoso --email alice@sdk.test --role member >/dev/null || return 1
  # spa_client TENANT NAME : the auth0-spa-js client shape (same on both tenants)
  spa_client() {
    ocli client create --tenant "$1" --name "$2" --type public --web-origin "$app" \
      --redirect-uri "$app/spa.html" --post-logout-redirect-uri "$app/logged-out.html" \
      --grant authorization_code,refresh_token,token_exchange --organization-usage allow "${@:3}"
  }
  oidc_client() {
    ocli client create --tenant "$1" --name "$2" --type public --web-origin "$app" \
      --redirect-uri "$app/oidc.html" --redirect-uri "$app/oidc-silent.html" \
      --post-logout-redirect-uri "$app/logged-out.html" --grant authorization_code,refresh_token
  }
  spa="$(spa_client "$t" sdk-spa --audience "$SDK_API")" || return 1
  react="$(ocli client create --tenant "$t" --name sdk-react --type public --web-origin "$app" \
    --redirect-uri "$app/react.html" --post-logout-redirect-uri "$app/react.html" \
    --grant authorization_code,refresh_token)" || return 1
  oidc="$(oidc_client "$t" sdk-oidc)" || return 1
  gspa="$(spa_client "$o" sdk-spa)" || return 1
  goidc="$(oidc_client "$o" sdk-oidc)" || return 1
  jq -n --arg api "$SDK_API" --arg pw "$USER_PASSWORD" \
    --argjson acme "$acme" --argjson globex "$globex" \
    --argjson north "$north" --argjson contoso "$contoso" --argjson alice "$alice" --argjson other "$other" \
    --argjson spa "$spa" --argjson react "$react" --argjson oidc "$oidc" --argjson gspa "$gspa" --argjson goidc "$goidc" '
    def org: {id, name};
    {api: $api, password: $pw,
     tenants: {acme: {id: $acme.id, slug: $acme.slug}, globex: {id: $globex.id, slug: $globex.slug}},
     orgs: {northwind: ($north | org), contoso: ($contoso | org)},
     users: {alice: ($alice | {id, email}), other: ($other | {id, email})},
     clients: {spa: $spa.client_id, react: $react.client_id, oidc: $oidc.client_id,
               globex_spa: $gspa.client_id, globex_oidc: $goidc.client_id}}' >"$file" || return 1
  jq -e '[.. | select(. == null or . == "")] | length == 0' "$file" >/dev/null || { echo "e2e: incomplete sdk setup: $(cat "$file")" >&2; return 1; }
}

# run_sdk KIND PORT : sets up the SDK tenants and runs sdk.mjs against the server on PORT; sets LAST_FAIL
run_sdk() {
  local kind=$1 port=$2 app_port setup="$WORK/sdk-setup.json" outf="$WORK/sdk.out" rc=0
  pick_port 18100 18119; app_port=$PICKED
  local app="http://app.$SDK_DOMAIN:$app_port"
  echo
  echo "== browser SDKs ($kind): tenants $SDK_TENANT (acme.$SDK_DOMAIN:$port) and $SDK_OTHER_TENANT, app $app"
  if ! sdk_setup "$app" "$setup"; then
    echo "FAIL browser SDK setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  log "sdk set up: $(jq -c '{orgs: (.orgs | map_values(.id)), clients}' "$setup")"
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_APP_PORT="$app_port" E2E_SDK_SETUP="$setup" E2E_SDK_DOMAIN="$SDK_DOMAIN" \
    E2E_WORK="$WORK" E2E_TIMEOUT_SECONDS=180 \
    node "${E2E_SDK_MJS:-$E2E_DIR/sdk.mjs}" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# ---- the Management API through Auth0's Node SDK: setup with the CLI, then scripts/e2e/auth0-mgmt.mjs

# mgmt_setup FILE : tenants $MGMT_TENANT and $MGMT_OTHER_TENANT, each with a confidential client allowed the
# Management API audience with $MGMT_SCOPES (what an Auth0 "machine to machine application" is); writes what
# auth0-mgmt.mjs needs to FILE. Called in an `if`: every step says `|| return 1`.
mgmt_setup() {
  local file=$1 a b
  ocli tenant create --slug "$MGMT_TENANT" --name "Management SDK E2E" >/dev/null || return 1
  ocli tenant create --slug "$MGMT_OTHER_TENANT" --name "Management SDK rival" >/dev/null || return 1
  a="$(ocli client create --tenant "$MGMT_TENANT" --name sdk-manager --type confidential --grant client_credentials \
    --audience urn:authio:management --scope "$MGMT_SCOPES")" || return 1
  b="$(ocli client create --tenant "$MGMT_OTHER_TENANT" --name sdk-manager --type confidential --grant client_credentials \
    --audience urn:authio:management --scope "$MGMT_SCOPES")" || return 1
  jq -n --arg t "$MGMT_TENANT" --arg o "$MGMT_OTHER_TENANT" --argjson a "$a" --argjson b "$b" \
    '{tenant: $t, other_tenant: $o, client: {id: $a.client_id, secret: $a.client_secret},
      other_client: {id: $b.client_id, secret: $b.client_secret}}' >"$file" || return 1
  jq -e '[.. | select(. == null or . == "")] | length == 0' "$file" >/dev/null || { echo "e2e: incomplete mgmt setup: $(cat "$file")" >&2; return 1; }
}

# run_mgmt KIND PORT : sets up the tenants and runs auth0-mgmt.mjs against the server on PORT; sets LAST_FAIL
run_mgmt() {
  local kind=$1 port=$2 setup="$WORK/mgmt-setup.json" outf="$WORK/auth0-mgmt.out" rc=0
  echo
  echo "== Management API with Auth0's Node SDK v4 and v7 ($kind): tenants $MGMT_TENANT and $MGMT_OTHER_TENANT"
  if ! mgmt_setup "$setup"; then
    echo "FAIL Management SDK setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_MGMT_SETUP="$setup" E2E_BASE_DOMAIN=localhost E2E_TIMEOUT_SECONDS=180 \
    node "${E2E_MGMT_MJS:-$E2E_DIR/auth0-mgmt.mjs}" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# ---- the hosted pages: the email-first sign-in page and the account page, scripts/e2e/pages.mjs

# run_pages KIND PORT : tenants pages and pages-other, users alice and carol, a second password connection (the
# connection of the upstream identity pages.mjs writes for carol); runs pages.mjs (axe-core, screenshots in
# $E2E_ARTIFACTS, default scripts/e2e/out); sets LAST_FAIL
run_pages() {
  local kind=$1 port=$2 setup="$WORK/pages-setup.json" outf="$WORK/pages.out" rc=0 t a c con sqlcmd
  echo
  echo "== hosted pages ($kind): tenant pages, sign-in page and account page, axe-core"
  if ! { t="$(ocli tenant create --slug pages --name "Pages E2E")" && ocli tenant create --slug pages-other >/dev/null &&
    a="$(ocli user create --tenant pages --email alice@pages.test --password "$USER_PASSWORD")" &&
    c="$(ocli user create --tenant pages --email carol@pages.test --password "$USER_PASSWORD")" &&
    con="$(ocli connection create --tenant pages --name upstream --strategy auth0)" &&
    jq -n --arg base "http://pages.localhost:$port" --arg other "http://pages-other.localhost:$port" --arg pw "$USER_PASSWORD" \
      --arg dialect "$kind" --argjson t "$t" --argjson a "$a" --argjson c "$c" --argjson con "$con" \
      '{base: $base, other_base: $other, password: $pw, dialect: $dialect, tenant_id: $t.id, connection_id: $con.id,
        alice: {id: $a.id, email: $a.email}, carol: {id: $c.id, email: $c.email}}' >"$setup"; }; then
    echo "FAIL pages setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  case "$kind" in
    sqlite) sqlcmd="sqlite3 '$WORK/authio.db'" ;;
    postgres) sqlcmd="psql '$AUTHIO_DATABASE_URL' -v ON_ERROR_STOP=1 -q -c" ;;
  esac
  E2E_LABEL="$kind" E2E_PAGES_SETUP="$setup" E2E_PAGES_SQL="$sqlcmd" E2E_ARTIFACTS="${E2E_ARTIFACTS:-$E2E_DIR/out}" \
    E2E_TIMEOUT_SECONDS=180 node "$E2E_DIR/pages.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# run_email KIND PORT : a tenant with a user and the email connection (CLI + Management API), then
# scripts/e2e/email.mjs, which catches the server's mail on $SMTP_PORT (AUTHIO_SMTP_URL); sets LAST_FAIL
run_email() {
  local kind=$1 port=$2 setup="$WORK/email-setup.json" outf="$WORK/email.out" rc=0 t=emaile2e o=emailrival cli_out key t2
  pick_port 18160 18179
  local redirect="http://127.0.0.1:$PICKED/callback" # email.mjs serves it
  echo
  echo "== sign-in by email ($kind): tenants $t and $o, SMTP catcher on $SMTP_PORT"
  if ! { ocli tenant create --slug "$t" --name "Email E2E" >/dev/null && ocli tenant create --slug "$o" >/dev/null &&
    ocli user create --tenant "$t" --email mail-user@email.test --password "$USER_PASSWORD" >/dev/null &&
    cli_out="$(ocli client create --tenant "$t" --name email-web --type public --redirect-uri "$redirect" --grant authorization_code)" &&
    for t2 in "$t" "$o"; do key="$(ocli apikey create --tenant "$t2" --name e2e | jq -r .key)" &&
      curl -fsS -m 10 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"name":"email","strategy":"email"}' \
        "http://$t2.localhost:$port/api/v2/connections" >/dev/null || return 1; done &&
    jq -n --arg t "$t" --arg o "$o" --arg r "$redirect" --argjson c "$cli_out" \
      '{tenant: $t, other_tenant: $o, email: "mail-user@email.test", client_id: $c.client_id, redirect_uri: $r}' >"$setup"; }; then
    echo "FAIL sign-in by email setup (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_SMTP_PORT="$SMTP_PORT" E2E_EMAIL_SETUP="$setup" E2E_TIMEOUT_SECONDS=120 \
    node "$E2E_DIR/email.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# run_reset KIND PORT : a tenant with a user and a public client (CLI), then scripts/e2e/reset.mjs, which catches
# the server's mail on $SMTP_PORT (AUTHIO_SMTP_URL); sets LAST_FAIL
run_reset() {
  local kind=$1 port=$2 setup="$WORK/reset-setup.json" outf="$WORK/reset.out" rc=0 t=resete2e o=resetrival cli_out
  pick_port 18180 18199
  local redirect="http://127.0.0.1:$PICKED/callback" # reset.mjs serves it
  echo
  echo "== password reset ($kind): tenants $t and $o, SMTP catcher on $SMTP_PORT"
  if ! { ocli tenant create --slug "$t" --name "Reset E2E" >/dev/null && ocli tenant create --slug "$o" >/dev/null &&
    ocli user create --tenant "$t" --email reset-user@reset.test --password "$USER_PASSWORD" >/dev/null &&
    cli_out="$(ocli client create --tenant "$t" --name reset-web --type public --redirect-uri "$redirect" --grant authorization_code)" &&
    jq -n --arg t "$t" --arg o "$o" --arg r "$redirect" --arg p "$USER_PASSWORD" --argjson c "$cli_out" \
      '{tenant: $t, other_tenant: $o, email: "reset-user@reset.test", password: $p, client_id: $c.client_id, redirect_uri: $r}' >"$setup"; }; then
    echo "FAIL password reset setup (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_SMTP_PORT="$SMTP_PORT" E2E_RESET_SETUP="$setup" E2E_TIMEOUT_SECONDS=120 \
    node "$E2E_DIR/reset.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# run_mfa KIND PORT : tenants mfa and mfa-rival with a user and API keys, then scripts/e2e/mfa.mjs (TOTP and
# recovery codes in the browser); sets LAST_FAIL
run_mfa() {
  local kind=$1 port=$2 setup="$WORK/mfa-setup.json" outf="$WORK/mfa.out" rc=0 user key okey
  echo
  echo "== second factor ($kind): tenants mfa and mfa-rival"
  if ! { ocli tenant create --slug mfa --name "MFA E2E" >/dev/null && ocli tenant create --slug mfa-rival >/dev/null &&
    user="$(ocli user create --tenant mfa --email totp@mfa.test --password "$USER_PASSWORD")" &&
    key="$(ocli apikey create --tenant mfa --name e2e)" && okey="$(ocli apikey create --tenant mfa-rival --name e2e)" &&
    jq -n --arg pw "$USER_PASSWORD" --argjson u "$user" --argjson k "$key" --argjson o "$okey" '{tenant: "mfa",
      other_tenant: "mfa-rival", email: $u.email, password: $pw, user_id: $u.id, api_key: $k.key, other_api_key: $o.key}' >"$setup"; }; then
    echo "FAIL second factor setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_MFA_SETUP="$setup" E2E_BASE_DOMAIN=localhost E2E_TIMEOUT_SECONDS=240 \
    node "$E2E_DIR/mfa.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# run_passkey KIND PORT : tenants pk (sign-up on) and pkrival with a public client and an API key each, then
# scripts/e2e/passkey.mjs (CDP virtual authenticator); sets LAST_FAIL
run_passkey() {
  local kind=$1 port=$2 cb setup="$WORK/passkey-setup.json" outf="$WORK/passkey.out" rc=0 c o k ko
  pick_port 18100 18119; cb=$PICKED
  echo
  echo "== passkeys ($kind): tenants pk and pkrival"
  if ! { ocli tenant create --slug pk --name "Passkey E2E" --signup >/dev/null && ocli tenant create --slug pkrival --name "Passkey rival" >/dev/null &&
    c="$(ocli client create --tenant pk --name pk-web --type public --redirect-uri "http://127.0.0.1:$cb/callback" --grant authorization_code)" &&
    o="$(ocli client create --tenant pkrival --name pk-web --type public --redirect-uri "http://127.0.0.1:$cb/callback" --grant authorization_code)" &&
    k="$(ocli apikey create --tenant pk --name e2e)" && ko="$(ocli apikey create --tenant pkrival --name e2e)" &&
    jq -n --argjson c "$c" --argjson o "$o" --argjson k "$k" --argjson ko "$ko" '{tenant: "pk", other_tenant: "pkrival",
      client: $c.client_id, other_client: $o.client_id, api_key: $k.key, other_api_key: $ko.key}' >"$setup"; }; then
    echo "FAIL passkey setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_CALLBACK_PORT="$cb" E2E_PASSKEY_SETUP="$setup" E2E_BASE_DOMAIN=localhost \
    E2E_TIMEOUT_SECONDS=180 node "$E2E_DIR/passkey.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# ---- upstream OIDC (scripts/e2e/upstream.mjs): tenant fedidp is the identity provider of tenant fed

# run_upstream KIND PORT : a verified and an unverified user on fedidp, its confidential client for fed's
# callback, fed's app and API key, a rival tenant's app; runs upstream.mjs (which creates the connection through
# the Management API). Sets LAST_FAIL.
run_upstream() {
  local kind=$1 port=$2 cb setup="$WORK/upstream-setup.json" outf="$WORK/upstream.out" rc=0 ok=1 idpc app rival key
  pick_port 18100 18119; cb=$PICKED
  echo
  echo "== upstream OIDC ($kind): fed signs in through fedidp, callback port $cb"
  ocli tenant create --slug fed --name "Federated" >/dev/null && ocli tenant create --slug fedidp --name "Fed IdP" >/dev/null &&
    ocli tenant create --slug fedrival --name "Fed rival" >/dev/null &&
    ocli user create --tenant fedidp --email dana@fed.test --password "$USER_PASSWORD" --email-verified >/dev/null &&
    ocli user create --tenant fedidp --email ulla@fed.test --password "$USER_PASSWORD" >/dev/null &&
    idpc="$(ocli client create --tenant fedidp --name fed --type confidential --grant authorization_code \
      --redirect-uri "http://fed.localhost:$port/login/callback")" &&
    app="$(ocli client create --tenant fed --name fed-app --type public --grant authorization_code --redirect-uri "http://127.0.0.1:$cb/callback")" &&
    rival="$(ocli client create --tenant fedrival --name rival-app --type public --grant authorization_code --redirect-uri "http://127.0.0.1:$cb/callback")" &&
    key="$(ocli apikey create --tenant fed --name e2e)" &&
    jq -n --arg pw "$USER_PASSWORD" --argjson idpc "$idpc" --argjson app "$app" --argjson rival "$rival" --argjson key "$key" \
      '{tenant: "fed", idp_tenant: "fedidp", rival_tenant: "fedrival", password: $pw, verified: "dana@fed.test",
        unverified: "ulla@fed.test", idp_client: {id: $idpc.client_id, secret: $idpc.client_secret},
        app: $app.client_id, rival_app: $rival.client_id, api_key: $key.key}' >"$setup" || ok=0
  if [[ $ok == 0 ]]; then
    echo "FAIL upstream setup with the CLI (log: $WORK/cli.log)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    LAST_FAIL=1
    return 0
  fi
  E2E_LABEL="$kind" E2E_PORT="$port" E2E_CALLBACK_PORT="$cb" E2E_UPSTREAM_SETUP="$setup" \
    E2E_BASE_DOMAIN=localhost E2E_SCHEME=http E2E_TIMEOUT_SECONDS=180 \
    node "$E2E_DIR/upstream.mjs" 2>&1 | tee "$outf" || rc=$?
  add_counts "$outf" "$rc"
}

# ---- one backend
run_backend() {
  local kind=$1
  WORK="$(mktemp -d /tmp/authio-e2e-"$kind".XXXXXX)"
  WORKDIRS+=("$WORK")
  SERVER_LOGS=()
  echo
  echo "======== e2e on $kind ($WORK)"

  export AUTHIO_SECRET_KEY
  AUTHIO_SECRET_KEY="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" # 48 hex characters
  [[ ${#AUTHIO_SECRET_KEY} -eq 48 ]] || { log "bad secret length"; return 1; }
  export AUTHIO_BASE_DOMAIN=localhost AUTHIO_PUBLIC_SCHEME=http
  export AUTHIO_LOG_LEVEL="${AUTHIO_LOG_LEVEL:-info}"

  case "$kind" in
    sqlite)
      export AUTHIO_DATABASE_URL="sqlite:$WORK/authio.db"
      unset AUTHIO_REDIS_URL
      ;;
    postgres)
      psql "$PG_BASE/postgres?sslmode=disable" -v ON_ERROR_STOP=1 -q \
        -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
      redis-cli -u "$REDIS_URL" flushdb >/dev/null
      export AUTHIO_DATABASE_URL="$PG_BASE/$PG_DB?sslmode=disable"
      export AUTHIO_REDIS_URL="$REDIS_URL"
      ;;
  esac

  local port_a admin_a cb_port port_b admin_b
  pick_port 18080 18099; port_a=$PICKED
  pick_port 18120 18139; admin_a=$PICKED
  pick_port 18100 18119; cb_port=$PICKED
  export AUTHIO_LISTEN="127.0.0.1:$port_a" AUTHIO_ADMIN_LISTEN="127.0.0.1:$admin_a"

  local redirect="http://127.0.0.1:$cb_port/callback"
  local post_logout="http://127.0.0.1:$cb_port/logged-out"

  log "migrate"
  "$BIN" migrate >>"$WORK/cli.log" 2>&1

  R_PASS=0
  R_FAIL=0
  log "create tenants, user and clients"
  local out
  out="$(cli tenant create --slug acme --name "Acme")"; jget "$out" .id >/dev/null
  local acme_domains; acme_domains="$(jq -c .domains <<<"$out")"
  out="$(cli tenant create --slug globex --name "Globex" --signing-alg "$GLOBEX_ALG")"; jget "$out" .id >/dev/null
  out="$(cli domain add --tenant acme --domain "$EXTRA_DOMAIN")"
  if jq -e --arg d "$EXTRA_DOMAIN" '.tenant == "acme" and .domain == $d' <<<"$out" >/dev/null 2>&1; then
    ok "cli: domain add --tenant acme --domain $EXTRA_DOMAIN"
  else
    nok "cli: domain add printed: $out"
  fi
  out="$(cli tenant list)"
  if jq -e --arg d "$EXTRA_DOMAIN" 'type == "array" and (map(.slug) | sort) == ["acme","globex"]
      and (.[] | select(.slug == "acme") | .domains | index("acme.localhost") != null and index($d) != null)' <<<"$out" >/dev/null 2>&1; then
    ok "cli: tenant list shows acme (both domains) and globex"
  else
    nok "cli: tenant list printed: $out"
  fi
  out="$(cli user create --tenant acme --email "$USER_EMAIL" --password "$USER_PASSWORD")"
  local user_id; user_id="$(jget "$out" .id)"
  # The same-site app of the web_message check: the parent of $SAME_SITE_DOMAIN (a domain of acme), served by the
  # callback server. Under localhost, because fosite takes http redirect URIs on localhost names only.
  cli domain add --tenant acme --domain "$SAME_SITE_DOMAIN" >/dev/null
  local same_site_app="http://${SAME_SITE_DOMAIN#*.}:$cb_port"
  out="$(cli client create --tenant acme --name e2e-web --type public \
    --redirect-uri "$redirect" --post-logout-redirect-uri "$post_logout" \
    --redirect-uri "$same_site_app/callback" --web-origin "http://127.0.0.1:$cb_port" --web-origin "$same_site_app" \
    --grant authorization_code,refresh_token)"
  local acme_pub; acme_pub="$(jget "$out" .client_id)"
  out="$(cli client create --tenant acme --name e2e-service --type confidential --grant client_credentials --audience "$ACME_AUDIENCE")"
  local acme_conf acme_secret; acme_conf="$(jget "$out" .client_id)"; acme_secret="$(jget "$out" .client_secret)"
  out="$(cli client create --tenant globex --name e2e-web --type public \
    --redirect-uri "$redirect" --post-logout-redirect-uri "$post_logout" \
    --grant authorization_code,refresh_token)"
  local globex_pub; globex_pub="$(jget "$out" .client_id)"
  out="$(cli client create --tenant globex --name e2e-service --type confidential --grant client_credentials)"
  local globex_conf globex_secret; globex_conf="$(jget "$out" .client_id)"; globex_secret="$(jget "$out" .client_secret)"
  log "acme domains $acme_domains, user $user_id, public $acme_pub, confidential $acme_conf; globex public $globex_pub, confidential $globex_conf"

  pick_port 18140 18159; SMTP_PORT=$PICKED
  export AUTHIO_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" # the email suite's catcher listens there
  start_server A "$port_a" "$admin_a"

  local rc=0 outf="$WORK/e2e.out" f=0 of=0 sf=0 mf=0 ef=0 rf=0
  if want e2e; then
    E2E_LABEL="$kind" E2E_PORT="$port_a" E2E_CALLBACK_PORT="$cb_port" E2E_ADMIN_PORT="$admin_a" \
      E2E_USER_EMAIL="$USER_EMAIL" E2E_USER_PASSWORD="$USER_PASSWORD" E2E_USER_ID="$user_id" \
      E2E_ACME_PUBLIC_CLIENT_ID="$acme_pub" E2E_ACME_CONF_CLIENT_ID="$acme_conf" E2E_ACME_CONF_CLIENT_SECRET="$acme_secret" \
      E2E_GLOBEX_PUBLIC_CLIENT_ID="$globex_pub" E2E_GLOBEX_CONF_CLIENT_ID="$globex_conf" E2E_GLOBEX_CONF_CLIENT_SECRET="$globex_secret" \
      E2E_ACME_AUDIENCE="$ACME_AUDIENCE" E2E_GLOBEX_ALG="$GLOBEX_ALG" E2E_EXTRA_DOMAIN="$EXTRA_DOMAIN" E2E_SAME_SITE_DOMAIN="$SAME_SITE_DOMAIN" \
      E2E_BASE_DOMAIN=localhost E2E_SCHEME=http E2E_TIMEOUT_SECONDS=240 \
      node "${E2E_MJS:-$E2E_DIR/e2e.mjs}" 2>&1 | tee "$outf" || rc=$?
    add_counts "$outf" "$rc"
    f=$LAST_FAIL
  fi
  if want orgs && [[ "${E2E_ORGS:-1}" != 0 ]]; then
    run_orgs "$kind" "$port_a"
    of=$LAST_FAIL
  fi
  if want sdk; then
    run_sdk "$kind" "$port_a"
    sf=$LAST_FAIL
  fi
  if want mgmt && [[ "${E2E_MGMT:-1}" != 0 ]]; then
    run_mgmt "$kind" "$port_a"
    mf=$LAST_FAIL
  fi
  if want pages; then
    run_pages "$kind" "$port_a"
    mf=$((mf + LAST_FAIL))
  fi
  if want email; then
    run_email "$kind" "$port_a"
    ef=$LAST_FAIL
  fi
  if want reset; then
    run_reset "$kind" "$port_a"
    rf=$LAST_FAIL
  fi
  if want mfa; then
    run_mfa "$kind" "$port_a"
    mf=$((mf + LAST_FAIL))
  fi
  if want passkey; then
    run_passkey "$kind" "$port_a"
    mf=$((mf + LAST_FAIL))
  fi
  if want upstream; then
    run_upstream "$kind" "$port_a"
    mf=$((mf + LAST_FAIL))
  fi

  if [[ "$kind" == postgres ]]; then
    pick_port 18080 18099; port_b=$PICKED
    pick_port 18120 18139; admin_b=$PICKED
    echo "== replicas: A on $port_a, B on $port_b (same Postgres + Redis); public host acme.localhost:$port_a"
    if start_server B "$port_b" "$admin_b"; then
      replica_checks "$port_a" "$port_b" "$acme_conf" "$acme_secret"
    else
      nok "replica B starts against the same database and Redis"
    fi
  fi
  echo "script checks ($kind): $R_PASS passed, $R_FAIL failed"
  TOTAL_PASS=$((TOTAL_PASS + R_PASS))
  TOTAL_FAIL=$((TOTAL_FAIL + R_FAIL))

  if [[ $f -ne 0 || $of -ne 0 || $sf -ne 0 || $mf -ne 0 || $ef -ne 0 || $rf -ne 0 || $R_FAIL -ne 0 ]]; then dump_logs; fi
  stop_servers
}

# Both replicas are addressed as the same public host acme.localhost:PORT_A (as behind a load
# balancer); curl --connect-to picks the replica.
replica_checks() {
  local pa=$1 pb=$2 id=$3 secret=$4
  local host="acme.localhost:$pa" base="http://acme.localhost:$pa"
  local basic; basic="$(uri "$id"):$(uri "$secret")"
  rcurl() { local port=$1; shift; curl -sS -m 10 --connect-to "$host:127.0.0.1:$port" "$@"; }
  cc_token() { rcurl "$1" -u "$basic" -d grant_type=client_credentials "$base/oauth/token" | jq -r '.access_token // empty'; }
  introspect_active() { rcurl "$1" -u "$basic" --data-urlencode "token=$2" "$base/oauth/introspect" | jq -r '.active' 2>/dev/null; }
  jwks_kids() { rcurl "$1" "$base/.well-known/jwks.json" | jq -r '.keys[]?.kid' 2>/dev/null | tr '\n' ' '; }

  local t1 t2 a
  t1="$(cc_token "$pa" || true)"
  if [[ -n "$t1" ]]; then ok "client_credentials token from replica A"; else nok "client_credentials token from replica A"; return 0; fi
  a="$(introspect_active "$pb" "$t1" || true)"
  [[ "$a" == true ]] && ok "token issued by A introspects active on B" || nok "token issued by A introspects active on B (active=$a)"
  t2="$(cc_token "$pa" || true)"
  [[ -n "$t2" ]] || { nok "second client_credentials token from A"; return 0; }
  # revocation on A is seen by B
  local code
  code="$(rcurl "$pa" -o /dev/null -w '%{http_code}' -u "$basic" --data-urlencode "token=$t2" -d token_type_hint=access_token "$base/oauth/revoke" || true)"
  [[ "$code" == 200 ]] && ok "revoke on A -> 200" || nok "revoke on A -> $code"
  a="$(introspect_active "$pb" "$t2" || true)"
  [[ "$a" == false ]] && ok "token revoked on A is inactive on B" || nok "token revoked on A is inactive on B (active=$a)"

  # key rotation through the CLI while both replicas run
  local old_kid new_kid out kids_a kids_b t0 dt seen_a="" seen_b=""
  old_kid="$(jwt_kid "$t1")"
  if ! out="$(cli key rotate --tenant acme)" || ! new_kid="$(jget "$out" .kid)"; then
    nok "authio key rotate --tenant acme prints {kid, alg} (got: ${out:-nothing})"
    return 0
  fi
  ok "authio key rotate --tenant acme -> $new_kid"
  [[ "$new_kid" != "$old_kid" ]] || nok "rotation returned the kid already in use ($old_kid)"
  t0=$(now_ms)
  while :; do
    dt=$(($(now_ms) - t0))
    [[ -z "$seen_a" ]] && kids_a="$(jwks_kids "$pa" || true)" && [[ " $kids_a " == *" $new_kid "* ]] && seen_a=$dt
    [[ -z "$seen_b" ]] && kids_b="$(jwks_kids "$pb" || true)" && [[ " $kids_b " == *" $new_kid "* ]] && seen_b=$dt
    [[ -n "$seen_a" && -n "$seen_b" ]] && break
    ((dt > 2000)) && break
    sleep 0.1
  done
  [[ -n "$seen_a" ]] && ok "new kid in replica A's JWKS after ${seen_a} ms" || nok "new kid $new_kid not in replica A's JWKS within 2 s (kids: $kids_a)"
  [[ -n "$seen_b" ]] && ok "new kid in replica B's JWKS after ${seen_b} ms" || nok "new kid $new_kid not in replica B's JWKS within 2 s (kids: $kids_b)"
  kids_b="$(jwks_kids "$pb" || true)"
  [[ -n "$old_kid" && " $kids_b " == *" $old_kid "* ]] && ok "previous kid $old_kid still published (outstanding tokens verify)" || nok "previous kid $old_kid dropped from JWKS right after rotation (kids: $kids_b)"
  a="$(introspect_active "$pb" "$t1" || true)"
  [[ "$a" == true ]] && ok "pre-rotation token still active on B" || nok "pre-rotation token still active on B (active=$a)"
  # new tokens are signed with the new key on both replicas
  local r kid tok
  for r in A B; do
    local port=$pa; [[ $r == B ]] && port=$pb
    t0=$(now_ms)
    kid=""
    while :; do
      tok="$(cc_token "$port" || true)"
      kid="$(jwt_kid "$tok")"
      [[ "$kid" == "$new_kid" ]] && break
      (($(now_ms) - t0 > 2000)) && break
      sleep 0.1
    done
    [[ "$kid" == "$new_kid" ]] && ok "replica $r signs new tokens with $new_kid" || nok "replica $r still signs with ${kid:-?} 2 s after rotation (want $new_kid)"
  done
  code="$(rcurl "$pb" -o /dev/null -w '%{http_code}' "$base/readyz" || true)"
  [[ "$code" == 200 ]] && ok "replica B /readyz -> 200" || nok "replica B /readyz -> $code"
}

# (plain `if`: a function called from an && list would run with errexit off)
if [[ "$WHICH" == all || "$WHICH" == sqlite ]]; then run_backend sqlite; fi
if [[ "$WHICH" == all || "$WHICH" == sqlite ]] && [[ "${E2E_DEMO:-1}" != 0 ]]; then run_demo; fi
if [[ "$WHICH" == all || "$WHICH" == sqlite ]] && [[ "${E2E_README:-1}" != 0 ]]; then
  echo
  echo "======== README walkthrough: scripts/readme-check.sh"
  if bash "$ROOT/scripts/readme-check.sh"; then
    echo "ok   README walkthrough blocks run as written"
    TOTAL_PASS=$((TOTAL_PASS + 1))
  else
    echo "FAIL README walkthrough (scripts/readme-check.sh)"
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi
fi
if [[ "$WHICH" == all || "$WHICH" == postgres ]]; then run_backend postgres; fi

SUMMARY_DONE=1
echo
echo "======== e2e summary ($WHICH)"
echo "e2e: $TOTAL_PASS passed, $TOTAL_FAIL failed"
[[ $TOTAL_FAIL -eq 0 ]]
