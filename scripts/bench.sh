#!/usr/bin/env bash
# Load benchmark of a local Authio server (see BENCHMARKS.md).
#
#   bash scripts/bench.sh                     # full run (~5-6 min)
#   BENCH_DURATION=3s bash scripts/bench.sh   # smoke test
#
# Environment (all optional):
#   BENCH_DURATION   wrk duration per scenario and connection count (default 20s)
#   BENCH_CONNS      connection counts (default "16 64")
#   BENCH_THREADS    wrk threads (default 2)
#   BENCH_SCENARIOS  subset of: cc_rs256 cc_es256 introspect jwks discovery switch_org scale signin
#                    (scale is not in the default set: it takes 10-20 minutes; signin, full hosted password
#                    sign-ins next to the raw bcrypt rate, is not either: see scripts/bench/signin.sh)
#   BENCH_TENANTS    scale: tenants created through the bulk path (default 10000)
#   BENCH_SCALE_ALG  scale: their signing algorithm (default RS256)
#   BENCH_SCALE_ES_PROBE  scale: ES256 tenants imported first to measure that rate (default 1000; 0: none)
#   BENCH_SCALE_COLD scale: cold tenants whose first requests are timed (default 20)
#   BENCH_SCALE_REPEAT  scale: runs of each of one tenant / all tenants, alternated (default 2)
#   BENCH_SCALE_ENDPOINTS  scale: which of cc jwks discovery to run (default all three)
#   BENCH_SCALE_RS_PROBE  scale: RS256 tenants imported with an empty key pool first (default 200; 0: none)
#   BENCH_SCALE_POOL scale: RSA keys put in the key pool (authio key pool fill) before an RS256 import (default
#                    BENCH_TENANTS; 0: none, the import generates its keys)
#   BENCH_SIGN_BENCHTIME  -benchtime of the raw signing benchmark (default 3s)
#   BENCH_TIMEOUT    bound of the whole run in seconds (default 1200)
#   BENCH_LOG_LEVEL  AUTHIO_LOG_LEVEL of the server (default warn)
#   BENCH_COUNT_STATUS=0  let wrk count only >=400 statuses (cheaper lua)
#   BENCH_PROFILE=1  save a CPU profile of the server over each wrk run (the middle of it, from the admin
#                    listener's /debug/pprof) as scripts/bench/out/cpu-STAMP-SCENARIO-CONNS.pprof
#   BENCH_PG_HOST/BENCH_PG_PORT/BENCH_PG_USER  Postgres (127.0.0.1/5432/postgres)
#   BENCH_REDIS_URL  (default redis://127.0.0.1:6379/2; db 2 is flushed)
#
# Everything listens on loopback only; the server is killed on exit.
set -euo pipefail

# Bound the whole run: re-exec under timeout(1) once. timeout signals the
# whole process group (this shell, wrk and the server).
if [[ -z "${BENCH_UNDER_TIMEOUT:-}" ]]; then
  export BENCH_UNDER_TIMEOUT=1
  limit=1200
  [[ " ${BENCH_SCENARIOS:-} " == *" scale "* ]] && limit=5400
  exec timeout --kill-after=20s "${BENCH_TIMEOUT:-$limit}" bash "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${BENCH_DURATION:-20s}"
CONNS="${BENCH_CONNS:-16 64}"
THREADS="${BENCH_THREADS:-2}"
SCENARIOS="${BENCH_SCENARIOS:-cc_rs256 cc_es256 introspect jwks discovery switch_org}"
SIGN_BENCHTIME="${BENCH_SIGN_BENCHTIME:-3s}"
PG_HOST="${BENCH_PG_HOST:-127.0.0.1}"
PG_PORT="${BENCH_PG_PORT:-5432}"
PG_USER="${BENCH_PG_USER:-postgres}"
DB_NAME="authio_bench"
REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/2}"
PORT=19080
ADMIN_PORT=19090
BASE="http://127.0.0.1:${PORT}"
AUDIENCE="https://api.bench.test"
# switch_org: tenant sw, a user in organizations alpha and beta, a public client allowing organizations
SW_HOST="sw.localhost:${PORT}"
SW_EMAIL="switcher@sw.bench.test"
SW_PASSWORD="Bench-Switch-Password-1"
SW_REDIRECT="http://127.0.0.1:${PORT}/bench-callback"   # registered, never followed
LUA="$ROOT/scripts/bench/bench.lua"
OUT="$ROOT/scripts/bench/out"            # git-ignored
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
TMP="$(mktemp -d /tmp/authio-bench.XXXXXX)"
SERVER_LOG="$TMP/server.log"
SERVER_PID=""

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s "$SERVER_LOG" ]]; then
    echo "---- last 40 lines of the server log ($SERVER_LOG) ----" >&2
    tail -n 40 "$SERVER_LOG" >&2 || true
  fi
  echo "server log kept at $SERVER_LOG" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json_get KEY < json  -> value of a top-level string field
json_get() {
  if command -v jq >/dev/null 2>&1; then
    jq -er --arg k "$1" '.[$k] // empty'
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); sys.exit(1) if v is None else print(v)' "$1"
  else
    sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n1 | grep .
  fi
}

# urlencode STRING (RFC 6749 2.3.1: client_secret_basic credentials are
# form-urlencoded before base64)
urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

# jwt_header TOKEN -> decoded JOSE header (for a sanity print)
jwt_header() {
  local h="${1%%.*}"
  h="$(printf '%s' "$h" | tr '_-' '/+')"
  while (( ${#h} % 4 )); do h+="="; done
  printf '%s' "$h" | base64 -d 2>/dev/null || true
}

# ------------------------------------------------------------------ tools
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt)"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null 2>&1 ||
    { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; } ||
    die "could not install wrk"
fi
for t in go psql redis-cli curl; do
  command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done
[[ " $SCENARIOS " == *" scale "* ]] && { command -v jq >/dev/null 2>&1 || die "missing tool: jq (the scale scenario reads the import's answer with it)"; }
mkdir -p "$OUT"

# ------------------------------------------------------------------ machine
log "machine"
{
  echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpus:     $(nproc)  $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
  echo "memory:   $(free -h | awk '/^Mem:/ {print $2}')"
  echo "go:       $(go version)"
  echo "postgres: $(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc 'show server_version' 2>/dev/null || echo '?')"
  echo "redis:    $(redis-cli -u "$REDIS_URL" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p' || echo '?')"
  echo "wrk:      $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}')"
  echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "run:      duration=$DURATION conns=[$CONNS] threads=$THREADS"
  echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) (at start; other work on the machine skews every figure)"
} | tee "$TMP/machine.txt"

# ------------------------------------------------------------------ build
log "building bin/authio"
mkdir -p bin
go build -o bin/authio . || die "go build failed"
BIN="$ROOT/bin/authio"

# ------------------------------------------------------------------ raw signing ceiling
# Run before the server starts so it has the machine to itself.
log "raw signing benchmark (go test ./scripts/signbench, -benchtime $SIGN_BENCHTIME)"
go test ./scripts/signbench -run '^$' -bench . -cpu 1,2 -benchtime "$SIGN_BENCHTIME" | tee "$TMP/signbench.txt"
sign_rate() { # sign_rate BenchmarkName -> ops/s
  awk -v n="$1" '$1 == n { for (i = 2; i < NF; i++) if ($(i+1) == "ops/s") { print $i; exit } }' "$TMP/signbench.txt"
}
RAW_RS_1="$(sign_rate BenchmarkSignRS256)"
RAW_RS_2="$(sign_rate BenchmarkSignRS256-2)"
RAW_ES_1="$(sign_rate BenchmarkSignES256)"
RAW_ES_2="$(sign_rate BenchmarkSignES256-2)"
[[ -n "$RAW_RS_2" && -n "$RAW_ES_2" ]] || die "could not read the signing benchmark"
printf 'raw RS256-2048 signing: %s ops/s (1 core), %s ops/s (2 cores)\n' "$RAW_RS_1" "$RAW_RS_2"
printf 'raw ES256 signing:      %s ops/s (1 core), %s ops/s (2 cores)\n' "$RAW_ES_1" "$RAW_ES_2"

# ------------------------------------------------------------------ database, redis, secrets
if curl -s -o /dev/null -m 1 "http://127.0.0.1:${PORT}/healthz" || curl -s -o /dev/null -m 1 "http://127.0.0.1:${ADMIN_PORT}/"; then
  die "something already listens on 127.0.0.1:${PORT} or :${ADMIN_PORT}"
fi

log "fresh Postgres database $DB_NAME"
psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)" \
  -c "CREATE DATABASE ${DB_NAME}" >/dev/null
log "flushing Redis ($REDIS_URL)"
redis-cli -u "$REDIS_URL" flushdb >/dev/null

export AUTHIO_DATABASE_URL="postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${DB_NAME}?sslmode=disable"
export AUTHIO_REDIS_URL="$REDIS_URL"
export AUTHIO_LISTEN="127.0.0.1:${PORT}"
export AUTHIO_ADMIN_LISTEN="127.0.0.1:${ADMIN_PORT}"
export AUTHIO_BASE_DOMAIN="localhost"
export AUTHIO_PUBLIC_SCHEME="http"
export AUTHIO_LOG_LEVEL="${BENCH_LOG_LEVEL:-warn}"
export AUTHIO_KEY_POOL=0   # no background key generation: the scale scenario fills the key pool itself, when it says so
AUTHIO_ADMIN_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # the tenant API (scale)
export AUTHIO_ADMIN_TOKEN
AUTHIO_SECRET_KEY="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 48 hex chars
export AUTHIO_SECRET_KEY
[[ ${#AUTHIO_SECRET_KEY} -eq 48 ]] || die "secret key generation failed"

log "authio migrate"
"$BIN" migrate >"$TMP/migrate.out" 2>"$TMP/migrate.err" || { cat "$TMP/migrate.err" >&2; die "migrate failed"; }

# create_tenant SLUG ALG ; create_client SLUG -> "id secret"
create_tenant() {
  "$BIN" tenant create --slug "$1" --name "Bench $2" --signing-alg "$2" >"$TMP/tenant-$1.json" 2>"$TMP/tenant-$1.err" ||
    { cat "$TMP/tenant-$1.err" >&2; die "tenant create $1 failed"; }
  log "tenant $1: $(tr -d '\n' <"$TMP/tenant-$1.json")"
}
create_client() {
  "$BIN" client create --tenant "$1" --name "bench-$1" --type confidential \
    --grant client_credentials --audience "$AUDIENCE" --scope read \
    >"$TMP/client-$1.json" 2>"$TMP/client-$1.err" ||
    { cat "$TMP/client-$1.err" >&2; die "client create for $1 failed"; }
  local id secret
  id="$(json_get client_id <"$TMP/client-$1.json")" || die "no client_id in $(cat "$TMP/client-$1.json")"
  secret="$(json_get client_secret <"$TMP/client-$1.json")" || die "no client_secret in $(cat "$TMP/client-$1.json")"
  printf '%s %s' "$id" "$secret"
}
basic() { printf 'Basic %s' "$(printf '%s:%s' "$(urlencode "$1")" "$(urlencode "$2")" | base64 -w0)"; }

create_tenant rs RS256
create_tenant es ES256
read -r RS_ID RS_SECRET <<<"$(create_client rs)" || true
read -r ES_ID ES_SECRET <<<"$(create_client es)" || true
[[ -n "${RS_SECRET:-}" && -n "${ES_SECRET:-}" ]] || die "client creation failed"
RS_AUTH="$(basic "$RS_ID" "$RS_SECRET")"
ES_AUTH="$(basic "$ES_ID" "$ES_SECRET")"
log "clients: rs=$RS_ID es=$ES_ID"

# cli_json NAME ARGS... : runs bin/authio ARGS, keeps its JSON in $TMP/NAME.json, dies on failure
cli_json() {
  local name=$1
  shift
  "$BIN" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err" || { cat "$TMP/$name.err" >&2; die "authio $* failed"; }
}
has_scenario() { [[ " $SCENARIOS " == *" $1 "* ]]; }

if has_scenario switch_org; then
  create_tenant sw RS256
  cli_json sw-role role create --tenant sw --name member
  cli_json sw-org-a org create --tenant sw --name alpha --display-name "Alpha"
  cli_json sw-org-b org create --tenant sw --name beta --display-name "Beta"
  cli_json sw-user user create --tenant sw --email "$SW_EMAIL" --password "$SW_PASSWORD"
  cli_json sw-member-a member add --tenant sw --org alpha --email "$SW_EMAIL" --role member
  cli_json sw-member-b member add --tenant sw --org beta --email "$SW_EMAIL" --role member
  cli_json sw-client client create --tenant sw --name bench-switch --type public --redirect-uri "$SW_REDIRECT" \
    --grant authorization_code,refresh_token --organization-usage allow
  SW_ORG_A="$(json_get id <"$TMP/sw-org-a.json")" || die "no id in $(cat "$TMP/sw-org-a.json")"
  SW_ORG_B="$(json_get id <"$TMP/sw-org-b.json")" || die "no id in $(cat "$TMP/sw-org-b.json")"
  SW_CLIENT="$(json_get client_id <"$TMP/sw-client.json")" || die "no client_id in $(cat "$TMP/sw-client.json")"
  log "switch_org: tenant sw, organizations alpha=$SW_ORG_A beta=$SW_ORG_B, public client $SW_CLIENT"
fi

# ------------------------------------------------------------------ server
start_server() {
  log "starting authio serve on $AUTHIO_LISTEN (admin $AUTHIO_ADMIN_LISTEN), log $SERVER_LOG"
  "$BIN" serve >>"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 120); do
    if curl -fs -o /dev/null -m 1 "$BASE/healthz"; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited during start-up"
    [[ $i -eq 120 ]] && die "server not healthy after 60s"
    sleep 0.5
  done
  log "healthz ok; readyz: $(curl -s -o /dev/null -w '%{http_code}' -m 2 "$BASE/readyz")"
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$SERVER_PID" 2>/dev/null || true
}
start_server

RS_HOST="rs.localhost:${PORT}"
ES_HOST="es.localhost:${PORT}"
CC_BODY="grant_type=client_credentials&audience=$(urlencode "$AUDIENCE")"

# fetch_token HOST AUTH -> access token (exits on failure)
fetch_token() {
  local code
  code="$(curl -s -m 10 -o "$TMP/token.json" -w '%{http_code}' -H "Host: $1" -H "Authorization: $2" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "$CC_BODY" "$BASE/oauth/token")" || true
  if [[ "$code" != 200 ]]; then
    echo "token request on $1 -> HTTP $code: $(head -c 500 "$TMP/token.json")" >&2
    return 1
  fi
  json_get access_token <"$TMP/token.json"
}
RS_TOKEN="$(fetch_token "$RS_HOST" "$RS_AUTH")" || die "could not get an RS256 token"
ES_TOKEN="$(fetch_token "$ES_HOST" "$ES_AUTH")" || die "could not get an ES256 token"
log "rs token header: $(jwt_header "$RS_TOKEN")"
log "es token header: $(jwt_header "$ES_TOKEN")"

# pkce_challenge VERIFIER -> base64url(SHA-256(VERIFIER)) (RFC 7636 S256), coreutils only
pkce_challenge() {
  local hex
  hex="$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
  # shellcheck disable=SC2059
  printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64 -w0 | tr '+/' '-_' | tr -d '='
}
html_unescape() { sed -e 's/&#34;/"/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&#43;/+/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g'; }

# sw_user_token -> a user's access token for organization alpha, obtained without a browser through the
# hosted login: GET /authorize -> 302 /login?state=<flow id> (and the authio_flow cookie); GET /login (cookies,
# csrf_token, the hidden state); POST /login with the tenant's Origin -> /authorize/resume?state=… -> 302 to
# the redirect URI with a code; POST /oauth/token with the verifier.
sw_user_token() {
  local jar="$TMP/sw-cookies.txt" base="http://$SW_HOST" verifier challenge state url loc page csrf rt code
  local c=(curl -s -m 10 --resolve "$SW_HOST:127.0.0.1" -b "$jar" -c "$jar")
  : >"$jar"
  verifier="$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
  challenge="$(pkce_challenge "$verifier")"
  state="$(head -c 12 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
  url="$base/authorize?response_type=code&client_id=$(urlencode "$SW_CLIENT")&redirect_uri=$(urlencode "$SW_REDIRECT")"
  url+="&scope=openid&state=$state&code_challenge=$challenge&code_challenge_method=S256&organization=$(urlencode "$SW_ORG_A")"
  loc="$("${c[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$url")" || true
  [[ "$loc" =~ ^30[0-9]\ .*/login\? ]] || { echo "GET /authorize: expected a redirect to /login, got '$loc'" >&2; return 1; }
  page="$("${c[@]}" "${loc#* }")" || true
  csrf="$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1 | html_unescape)"
  rt="$(sed -n 's/.*name="state" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1 | html_unescape)"
  [[ -n "$csrf" && -n "$rt" ]] || { echo "GET /login: no csrf_token/state in: $(head -c 300 <<<"$page")" >&2; return 1; }
  loc="$("${c[@]}" -o "$TMP/sw-login.out" -w '%{http_code} %{redirect_url}' -H "Origin: $base" \
    --data-urlencode "csrf_token=$csrf" --data-urlencode "state=$rt" \
    --data-urlencode "email=$SW_EMAIL" --data-urlencode "password=$SW_PASSWORD" "$base/login")" || true
  [[ "$loc" =~ ^30[0-9]\ .*/authorize/resume\? ]] || { echo "POST /login: expected a redirect to /authorize/resume, got '$loc': $(head -c 300 "$TMP/sw-login.out")" >&2; return 1; }
  loc="$("${c[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "${loc#* }")" || true
  [[ "$loc" == *" $SW_REDIRECT?"* ]] || { echo "GET /authorize after sign-in: expected a redirect to $SW_REDIRECT, got '$loc'" >&2; return 1; }
  code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$loc")"
  [[ -n "$code" && "$loc" == *"state=$state"* ]] || { echo "no code or wrong state in '$loc'" >&2; return 1; }
  loc="$("${c[@]}" -o "$TMP/sw-token.json" -w '%{http_code}' --data-urlencode grant_type=authorization_code \
    --data-urlencode "code=$code" --data-urlencode "redirect_uri=$SW_REDIRECT" --data-urlencode "client_id=$SW_CLIENT" \
    --data-urlencode "code_verifier=$verifier" "$base/oauth/token")" || true
  [[ "$loc" == 200 ]] || { echo "POST /oauth/token -> HTTP $loc: $(head -c 300 "$TMP/sw-token.json")" >&2; return 1; }
  json_get access_token <"$TMP/sw-token.json"
}
if has_scenario switch_org; then
  SW_TOKEN="$(sw_user_token)" || die "could not get the switch_org user's access token through the hosted login"
  log "switch_org: user token (organization alpha, expires_in $(json_get expires_in <"$TMP/sw-token.json")s) header: $(jwt_header "$SW_TOKEN")"
fi

# ------------------------------------------------------------------ scenarios
# scenario NAME -> sets S_HOST S_PATH S_METHOD S_BODY S_AUTH S_DESC
scenario() {
  S_METHOD=GET S_BODY="" S_AUTH="" S_HOST="$RS_HOST" S_CTYPE="application/x-www-form-urlencoded"
  case "$1" in
    cc_rs256)   S_DESC="client_credentials RS256"; S_METHOD=POST S_PATH=/oauth/token S_BODY="$CC_BODY" S_AUTH="$RS_AUTH" ;;
    cc_es256)   S_DESC="client_credentials ES256"; S_METHOD=POST S_PATH=/oauth/token S_BODY="$CC_BODY" S_AUTH="$ES_AUTH" S_HOST="$ES_HOST" ;;
    introspect) S_DESC="introspection (RS256 token)"; S_METHOD=POST S_PATH=/oauth/introspect S_BODY="token=$RS_TOKEN" S_AUTH="$RS_AUTH" ;;
    jwks)       S_DESC="JWKS"; S_PATH=/.well-known/jwks.json ;;
    discovery)  S_DESC="discovery"; S_PATH=/.well-known/openid-configuration ;;
    switch_org) S_DESC="switch-org (user token, alpha -> beta)"; S_METHOD=POST S_PATH=/v1/sessions/switch-org
                S_BODY="{\"organization_id\":\"$SW_ORG_B\"}" S_AUTH="Bearer $SW_TOKEN" S_HOST="$SW_HOST" S_CTYPE=application/json ;;
    *) die "unknown scenario $1" ;;
  esac
}

# preflight: one request with curl, print the status (a non-2xx here will
# also show up as errors in the wrk run)
preflight() {
  local args=(-s -m 10 -o "$TMP/preflight.out" -w '%{http_code}' -X "$S_METHOD" -H "Host: $S_HOST")
  [[ -n "$S_AUTH" ]] && args+=(-H "Authorization: $S_AUTH")
  [[ -n "$S_BODY" ]] && args+=(-H "Content-Type: $S_CTYPE" --data "$S_BODY")
  local code
  code="$(curl "${args[@]}" "$BASE$S_PATH")" || code="curl-failed"
  if [[ "$1" == introspect ]] && ! grep -q '"active":[[:space:]]*true' "$TMP/preflight.out"; then
    log "preflight introspect: the token is not reported active: $(head -c 300 "$TMP/preflight.out")"
  fi
  if [[ "$1" == switch_org ]] && ! grep -q "\"active_organization\":{\"id\":\"$SW_ORG_B\"" "$TMP/preflight.out"; then
    log "preflight switch_org: the answer does not name organization beta: $(head -c 300 "$TMP/preflight.out")"
  fi
  if [[ "$code" =~ ^2 ]]; then
    log "preflight $1: HTTP $code ($(wc -c <"$TMP/preflight.out") bytes)"
  else
    log "preflight $1: HTTP $code -- $(head -c 300 "$TMP/preflight.out")"
  fi
}

# CPU accounting per run (clock ticks from /proc): the server process, all
# postgres processes, and the whole machine (busy = user+nice+system+irq+
# softirq; steal = taken by the hypervisor). Printed as cores used on average.
clk_tck="$(getconf CLK_TCK 2>/dev/null || echo 100)"
cpu_snapshot() { # -> "server postgres busy steal"
  local srv pg host
  srv="$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)"
  # utime+stime, plus cutime+cstime so that backends which exit (and are reaped
  # by the postmaster) during a run are still counted
  pg="$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" { s += $14 + $15 + $16 + $17 } END { print s + 0 }')"
  host="$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 + 0 }' /proc/stat)"
  echo "$srv $pg $host"
}
# Postgres transactions on the bench database (pg_stat_database, flushed by
# Postgres about once a second) -> DB transactions per request.
pg_xacts() {
  psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "select xact_commit + xact_rollback from pg_stat_database where datname = '${DB_NAME}'" 2>/dev/null || echo 0
}
cpu_delta() { # cpu_delta "snap0" "snap1" seconds -> "srv=.. pg=.. busy=.. steal=.."
  awk -v a="$1" -v b="$2" -v hz="$clk_tck" -v d="$3" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    if (d <= 0) d = 1
    printf "srv_cpu=%.2f pg_cpu=%.2f host_busy=%.2f host_steal=%.2f",
      (y[1] - x[1]) / hz / d, (y[2] - x[2]) / hz / d, (y[3] - x[3]) / hz / d, (y[4] - x[4]) / hz / d
  }'
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }   # field KEY "BENCH_RESULT line"
RESULTS="$TMP/results.txt"
: >"$RESULTS"

# wrk_run NAME CONNS [TARGETS [SETTLE]]: one wrk run of the scenario in S_* (scenario or scale_scenario); with a
# TARGETS file every request goes to a random line's host (bench.lua). Appends its result line to $RESULTS.
wrk_run() {
  local sc=$1 c=$2 targets=${3:-} settle=${4:-1.2} hostarg=()
  [[ -z "$targets" ]] && hostarg=(-H "Host: $S_HOST")
  log "wrk $sc: $S_DESC, $c connections, $THREADS threads, $DURATION"
  kill -0 "$SERVER_PID" 2>/dev/null || die "server died before $sc/$c"
  x0="$(pg_xacts)"; snap0="$(cpu_snapshot)"; w0="$(date +%s.%N)"
  out="$TMP/wrk-$sc-$c.txt"
  local prof_pid=""
  if [[ "${BENCH_PROFILE:-}" == 1 ]]; then
    local secs="${DURATION%s}"
    (sleep 1; curl -s -m $((secs + 30)) -o "$OUT/cpu-$STAMP-$sc-$c.pprof" \
      "http://127.0.0.1:${ADMIN_PORT}/debug/pprof/profile?seconds=$((secs > 3 ? secs - 2 : 1))") &
    prof_pid=$!
  fi
  BENCH_METHOD="$S_METHOD" BENCH_BODY="$S_BODY" BENCH_AUTH="$S_AUTH" BENCH_CONTENT_TYPE="$S_CTYPE" \
  BENCH_SCENARIO="$sc" BENCH_CONNS="$c" BENCH_TARGETS="$targets" BENCH_THREADS="$THREADS" \
    wrk -t"$THREADS" -c"$c" -d"$DURATION" --timeout 5s --latency \
      "${hostarg[@]}" -s "$LUA" "$BASE$S_PATH" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed for $sc/$c"; }
  snap1="$(cpu_snapshot)"; w1="$(date +%s.%N)"
  [[ -n "$prof_pid" ]] && wait "$prof_pid"
  cat "$out"
  line="$(grep '^BENCH_RESULT ' "$out" | tail -n1)" || die "no BENCH_RESULT from wrk for $sc/$c"
  sleep "$settle"   # let Postgres flush its statistics
  x1="$(pg_xacts)"
  txr="$(awk -v a="$x0" -v b="$x1" -v r="$(field requests "$line")" 'BEGIN { if (r > 0) printf "%.2f", (b - a) / r; else print 0 }')"
  echo "$line $(cpu_delta "$snap0" "$snap1" "$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')") db_tx_per_req=$txr" >>"$RESULTS"
}

# shellcheck source=scripts/bench/scale.sh
source "$ROOT/scripts/bench/scale.sh"
# shellcheck source=scripts/bench/signin.sh
source "$ROOT/scripts/bench/signin.sh"

for sc in $SCENARIOS; do
  if [[ "$sc" == scale ]]; then
    scale_run
    continue
  fi
  if [[ "$sc" == signin ]]; then
    signin_run
    continue
  fi
  scenario "$sc"
  preflight "$sc"
  for c in $CONNS; do
    wrk_run "$sc" "$c"
  done
done

kill -0 "$SERVER_PID" 2>/dev/null || die "server died during the run"

# ------------------------------------------------------------------ summary
{
  echo
  echo "Authio bench $STAMP  (duration $DURATION, threads $THREADS, loopback, client+server on the same machine)"
  printf 'raw signing ceiling: RS256-2048 %s/s (1 core) %s/s (2 cores); ES256 %s/s (1 core) %s/s (2 cores)\n' \
    "$RAW_RS_1" "$RAW_RS_2" "$RAW_ES_1" "$RAW_ES_2"
  echo
  # shellcheck disable=SC2059
  hdr='%-18s %5s %9s %9s %9s %7s %8s %5s %5s %5s %5s %6s\n'
  # shellcheck disable=SC2059
  printf "$hdr" scenario conns "req/s" "p50 ms" "p99 ms" errors "%raw 2c" srv pg busy steal "db tx"
  # shellcheck disable=SC2059
  printf "$hdr" ------------------ ----- --------- --------- --------- ------- -------- ----- ----- ----- ----- ------
  while read -r line; do
    sc="$(field scenario "$line")"; c="$(field conns "$line")"; rps="$(field rps "$line")"
    pct="-"
    case "$sc" in
      cc_rs256 | switch_org) pct="$(awk -v r="$rps" -v m="$RAW_RS_2" 'BEGIN { printf "%.0f%%", 100 * r / m }')" ;;
      scale_cc_*) m="$RAW_RS_2"; [[ "${SCALE_ALG:-RS256}" == ES256 ]] && m="$RAW_ES_2"
                  pct="$(awk -v r="$rps" -v m="$m" 'BEGIN { printf "%.0f%%", 100 * r / m }')" ;;
      cc_es256) pct="$(awk -v r="$rps" -v m="$RAW_ES_2" 'BEGIN { printf "%.0f%%", 100 * r / m }')" ;;
      signin) pct="$(awk -v r="$rps" -v m="$RAW_BCRYPT_2" 'BEGIN { printf "%.0f%%", 100 * r / m }')" ;;
    esac
    printf '%-18s %5s %9.0f %9s %9s %7s %8s %5s %5s %5s %5s %6s\n' "$sc" "$c" "$rps" \
      "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field errors "$line")" "$pct" \
      "$(field srv_cpu "$line")" "$(field pg_cpu "$line")" "$(field host_busy "$line")" "$(field host_steal "$line")" \
      "$(field db_tx_per_req "$line")"
  done <"$RESULTS"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(%raw 2c: issuance rate as a share of the 2-core raw signing rate of the same algorithm (signin: sign-ins"
  echo " as a share of the 2-core raw bcrypt rate; its conns are sign-ins in flight, its req/s and latencies whole sign-ins);"
  echo " errors = non-2xx responses + socket errors/timeouts; srv/pg = cores used by the server/Postgres;"
  echo " busy/steal = cores busy on the whole machine (incl. wrk and anything else) / stolen by the hypervisor, of $(nproc);"
  echo " db tx = Postgres transactions per request)"
  echo

  # targets (see BENCHMARKS.md)
  best() { awk -v s="$1" '$0 ~ " scenario="s" " { for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, a, "="); if (a[2] > m) m = a[2] } } END { printf "%.0f", m + 0 }' "$RESULTS"; }
  check() { # check LABEL OK(0|1) DETAIL
    if [[ "$2" == 1 ]]; then printf '  PASS  %-44s %s\n' "$1" "$3"; else printf '  FAIL  %-44s %s\n' "$1" "$3"; fi
  }
  ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
  echo "targets (best req/s over the connection counts):"
  for sc in $SCENARIOS; do
    b="$(best "$sc")"
    case "$sc" in
      cc_rs256)   t="$(awk -v m="$RAW_RS_2" 'BEGIN { printf "%.0f", 0.7 * m }')"
                  check "cc RS256 >= 70% of raw 2-core RS256 ($t/s)" "$(ge "$b" "$t")" "$b/s" ;;
      cc_es256)   check "cc ES256 >= 5000/s" "$(ge "$b" 5000)" "$b/s" ;;
      introspect) check "introspection >= 5000/s" "$(ge "$b" 5000)" "$b/s" ;;
      jwks)       check "JWKS >= 20000/s" "$(ge "$b" 20000)" "$b/s" ;;
      discovery)  check "discovery >= 20000/s" "$(ge "$b" 20000)" "$b/s" ;;
      scale)      scale_summary ;;
      signin)     signin_summary ;;
      switch_org) # no target: reported only
                  at() { awk -v s="$1" -v c="$2" -v k="$3" '$0 ~ " scenario="s" " && $0 ~ " conns="c" " { for (i = 1; i <= NF; i++) if (index($i, k"=") == 1) v = substr($i, length(k) + 2) } END { print (v == "" ? "-" : v) }' "$RESULTS"; }
                  printf '  ----  %-44s %s\n' "switch-org: reported, no target" \
                    "$b/s; p99 $(at switch_org 16 p99_ms) ms at 16 conns, $(at switch_org 64 p99_ms) ms at 64; errors $(at switch_org 16 errors) / $(at switch_org 64 errors)" ;;
    esac
  done
  while read -r line; do
    sc="$(field scenario "$line")"; c="$(field conns "$line")"
    [[ "$sc" == switch_org || "$sc" == scale_* || "$sc" == signin ]] && continue   # reported above, no latency or error target
    if [[ "$c" == 16 ]]; then
      p99="$(field p99_ms "$line")"
      check "p99 < 50 ms at 16 conns: $sc" "$(awk -v p="$p99" 'BEGIN { print (p < 50) ? 1 : 0 }')" "${p99} ms"
    fi
    if [[ "$c" == 64 ]]; then
      e="$(field errors "$line")"
      check "no errors at 64 conns: $sc" "$([[ "$e" == 0 ]] && echo 1 || echo 0)" "$e errors"
    fi
  done <"$RESULTS"
} | tee "$TMP/summary.txt"

# Show what went wrong, if anything did.
if grep -q '^BENCH_SAMPLE ' "$TMP"/wrk-*.txt 2>/dev/null; then
  echo
  echo "first non-2xx response per run:"
  grep -h '^BENCH_SAMPLE ' "$TMP"/wrk-*.txt
fi
# Requests still in flight when wrk stops at the end of a run are cancelled
# by the client, and the server may log them as errors. Lines that mention a
# cancelled context, and lines sharing a request_id with one, are counted
# apart; the others are shown.
if grep -qiE 'panic|fatal|error' "$SERVER_LOG"; then
  echo
  awk 'NR == FNR {
         if (tolower($0) ~ /context canceled|operation was canceled/ && match($0, /request_id=[^ ]+/))
           c[substr($0, RSTART, RLENGTH)] = 1
         next
       }
       tolower($0) ~ /panic|fatal|error/ {
         id = ""
         if (match($0, /request_id=[^ ]+/)) id = substr($0, RSTART, RLENGTH)
         if (tolower($0) ~ /context canceled|operation was canceled/ || (id != "" && id in c)) { nc++ }
         else { no++; keep[no % 20] = $0 }
       }
       END {
         printf "server log: %d error lines belong to requests cancelled by the client (wrk stopping at the end of a run)", nc
         printf "; %d other error/panic/fatal lines%s\n", no, (no > 0 ? ", the last 20:" : "")
         for (i = (no > 20 ? no - 19 : 1); i <= no; i++) print "  " keep[i % 20]
       }' "$SERVER_LOG" "$SERVER_LOG"
fi

cp "$TMP/summary.txt" "$OUT/summary-$STAMP.txt"
cat "$TMP/machine.txt" "$TMP/signbench.txt" "$RESULTS" "$TMP"/wrk-*.txt >"$OUT/raw-$STAMP.txt" 2>/dev/null || true
echo
echo "saved: $OUT/summary-$STAMP.txt, $OUT/raw-$STAMP.txt"
