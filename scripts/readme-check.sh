#!/usr/bin/env bash
# Runs the README's walkthrough the way a newcomer would, to prove every block of it works as written.
#
# Copies the repository (tracked and untracked, not ignored, files) to a fresh temporary directory, starts
# `go run . serve --dev` there on a free port, and runs, in order and in one bash shell (so variables carry from
# block to block), every ```sh block of README.md that the line before marks with
#
#   <!-- readme-check -->                        run as written
#   <!-- readme-check: sign-in EMAIL PASSWORD --> the block a person pastes from the demo app's "In a shell" box:
#                                                replaced by the same sign-in done with curl through the hosted
#                                                pages, at the $APP_URL an earlier block set; it sets ISSUER,
#                                                CLIENT_ID, ACCESS_TOKEN and REFRESH_TOKEN as the box does
#   <!-- readme-check: postgres -->              run twice (it must be idempotent) in a shell of its own, against a
#                                                database of its own (dropped afterwards) and Redis db 3 instead of
#                                                the names in the README; a `bin/authio serve` line runs in the
#                                                background until /readyz answers 200
#
# The only change made to a block is the port: 8080 becomes the free port. curl is run with --fail-with-body, so an
# HTTP error stops the run. Prints each block as it runs it and ends with "readme-check: N blocks passed" or the
# failing block and the tail of the server's log.
#
# Usage: bash scripts/readme-check.sh
# Env:   README_CHECK_POSTGRES=0 skips the Postgres block; README_CHECK_KEEP=1 keeps the temporary directory;
#        README_CHECK_TIMEOUT (seconds, default 300).
# Needs: go, curl (>= 7.76), jq, openssl, basenc, psql and createdb (for the Postgres block).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
README="$ROOT/README.md"

if [[ -z "${README_CHECK_INNER:-}" ]]; then
  export README_CHECK_INNER=1
  rc=0
  timeout --kill-after=20 "${README_CHECK_TIMEOUT:-300}" bash "$0" "$@" || rc=$?
  [[ $rc -eq 124 || $rc -eq 137 ]] && echo "readme-check: TIMED OUT after ${README_CHECK_TIMEOUT:-300} s"
  exit "$rc"
fi

TMP="$(mktemp -d /tmp/authio-readme-check.XXXXXX)"
SERVE_PID=""
PG_DB="readme_check_$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
PG_USED=""
log() { echo "readme-check: $*"; }

cleanup() {
  local rc=$?
  if [[ -n "$SERVE_PID" ]]; then
    # go run starts the server as its child: end the process group this script started for it.
    kill -TERM -- "-$SERVE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVE_PID" 2>/dev/null || true
  fi
  if [[ -n "$PG_USED" ]]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ $rc -ne 0 ]]; then
    [[ -s "$TMP/serve.log" ]] && { echo "---------------- tail of the serve --dev log"; tail -n 40 "$TMP/serve.log"; }
    log "kept $TMP for inspection"
  elif [[ -z "${README_CHECK_KEEP:-}" ]]; then
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for p in $(shuf -i 18140-18199); do
    port_busy "$p" || { echo "$p"; return 0; }
  done
  echo "readme-check: no free port in 18140-18199" >&2
  return 1
}

# ---- the blocks: block-N.sh with the tag in block-N.tag
awk -v dir="$TMP" '
  /^<!-- readme-check(: .*)? -->$/ { tag = $0; sub(/^<!-- readme-check:? ?/, "", tag); sub(/ ?-->$/, "", tag); want = 1; next }
  want && /^```sh$/ { n++; inside = 1; want = 0; print tag > (dir "/block-" n ".tag"); printf "" > (dir "/block-" n ".sh"); line[n] = NR; next }
  want { print "readme-check: a marker at line " NR - 1 " is not followed by a ```sh block" > "/dev/stderr"; exit 2 }
  inside && /^```$/ { inside = 0; next }
  inside { print > (dir "/block-" n ".sh") }
  END { for (i = 1; i <= n; i++) print line[i] > (dir "/lines"); if (inside) exit 3 }
' "$README"
BLOCKS=$(ls "$TMP"/block-*.sh 2>/dev/null | wc -l)
((BLOCKS > 0)) || { log "no marked blocks in $README"; exit 1; }
mapfile -t LINES <"$TMP/lines"

# ---- a fresh copy of the repository, and serve --dev in it
mkdir "$TMP/repo"
(cd "$ROOT" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" ]] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$TMP/repo")
PORT="$(free_port)"
log "copied the repository to $TMP/repo; go run . serve --dev on port $PORT"
# A newcomer's shell: none of Authio's variables set.
unset AUTHIO_SECRET_KEY AUTHIO_DATABASE_URL AUTHIO_REDIS_URL AUTHIO_LISTEN AUTHIO_ADMIN_LISTEN AUTHIO_BASE_DOMAIN AUTHIO_PUBLIC_SCHEME
(cd "$TMP/repo" && AUTHIO_LISTEN="127.0.0.1:$PORT" exec setsid go run . serve --dev) >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
deadline=$((SECONDS + 180)) # the first go run compiles
until grep -q '^  Demo app ' "$TMP/serve.log" && curl -fsS -m 2 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  kill -0 "$SERVE_PID" 2>/dev/null || { log "serve --dev exited"; exit 1; }
  ((SECONDS < deadline)) || { log "serve --dev did not answer within 180 s"; exit 1; }
  sleep 0.3
done
log "serve --dev is up: $(sed -nE 's/^  Demo app +([^ ]+).*/\1/p' "$TMP/serve.log")"

# ---- what every script starts with
cat >"$TMP/prelude.sh" <<'PRELUDE'
set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }

# serve_until_ready CMD...: runs the server in the background until /readyz at $AUTHIO_LISTEN answers 200.
serve_until_ready() {
  "$@" >>"$CHECK_TMP/pg-serve.log" 2>&1 &
  local pid=$! deadline=$((SECONDS + 60))
  until command curl -fsS -m 2 "http://$AUTHIO_LISTEN/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "the server exited:"; tail -n 20 "$CHECK_TMP/pg-serve.log"; return 1; }
    ((SECONDS < deadline)) || { echo "no /readyz within 60 s"; kill "$pid"; return 1; }
    sleep 0.2
  done
  echo "serve: /readyz answered 200; stopping it"
  kill "$pid"
  wait "$pid" || true
}

# browser_sign_in EMAIL PASSWORD: what a person does at $APP_URL (the demo app pointed at a tenant and client):
# sign in through the hosted pages, then paste the app's "In a shell" lines. Here with curl: the authorization
# request the app sends (PKCE S256, offline_access), the login form, the redirects up to the app's /callback, and
# the code exchanged at the token endpoint.
browser_sign_in() {
  local email=$1 password=$2 q issuer client audience org redirect verifier challenge state next out page i
  local jar="$CHECK_TMP/jar" page="$CHECK_TMP/page.html"
  q="${APP_URL#*\?}"
  param() { printf '%s' "$2" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1; }
  enc() { jq -rn --arg s "$1" '$s|@uri'; }
  issuer=$(param issuer "$q"); client=$(param client_id "$q"); audience=$(param audience "$q"); org=$(param organization "$q")
  redirect="${APP_URL%%\?*}"; redirect="${redirect%/}/callback"
  verifier=$(openssl rand -hex 32)
  challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =)
  state=$(openssl rand -hex 8)
  next="${issuer}authorize?response_type=code&client_id=$(enc "$client")&redirect_uri=$(enc "$redirect")&scope=openid%20profile%20email%20offline_access&state=$state&nonce=$(openssl rand -hex 8)&code_challenge=$challenge&code_challenge_method=S256"
  [[ -n "$audience" ]] && next+="&audience=$(enc "$audience")"
  [[ -n "$org" ]] && next+="&organization=$(enc "$org")"
  for i in $(seq 1 10); do
    [[ "$next" == "$redirect"* ]] && break
    out=$(command curl -sS -c "$jar" -b "$jar" -o "$page" -w '%{http_code} %{redirect_url}' "$next")
    if [[ -n "${out#* }" ]]; then next="${out#* }"; continue; fi
    if grep -q -e 'name="password"' -e 'name="step" value="identify"' "$page"; then
      local args=(--data-urlencode "email=$email" --data-urlencode "password=$password")
      while IFS=$'\t' read -r name value; do
        value=$(printf '%s' "$value" | sed -e 's/&#43;/+/g; s/&#34;/"/g; s/&#39;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g')
        args+=(--data-urlencode "$name=$value")
      done < <(grep -o '<input type="hidden" name="[^"]*" value="[^"]*">' "$page" | sed -E 's/.*name="([^"]*)" value="([^"]*)".*/\1\t\2/' | sort -u)
      out=$(command curl -sS -c "$jar" -b "$jar" -o "$page" -w '%{http_code} %{redirect_url}' "${args[@]}" "${issuer}login")
      next="${out#* }"
      [[ -n "$next" ]] || { echo "sign-in as $email refused (HTTP ${out%% *}): $(sed -e 's/<[^>]*>//g' "$page" | grep -v '^\s*$' | head -n 5)"; return 1; }
    else
      echo "sign-in: unexpected page at $next (HTTP ${out%% *})"; return 1
    fi
  done
  [[ "$next" == "$redirect"* ]] || { echo "sign-in did not come back to $redirect: $next"; return 1; }
  [[ "$(param state "${next#*\?}")" == "$state" ]] || { echo "state mismatch: $next"; return 1; }
  out=$(command curl -sS --fail-with-body "${issuer}oauth/token" -d grant_type=authorization_code \
    --data-urlencode "code=$(param code "${next#*\?}")" --data-urlencode "redirect_uri=$redirect" \
    --data-urlencode "client_id=$client" -d "code_verifier=$verifier")
  ISSUER=$issuer
  CLIENT_ID=$client
  ACCESS_TOKEN=$(jq -er .access_token <<<"$out")
  REFRESH_TOKEN=$(jq -er .refresh_token <<<"$out")
  echo "signed in as $email through the hosted pages: ACCESS_TOKEN, REFRESH_TOKEN set"
}
PRELUDE

# script_of N: block N as the shell runs it (the port changed; a sign-in block replaced by browser_sign_in)
script_of() {
  local n=$1 tag
  tag="$(cat "$TMP/block-$n.tag")"
  echo "echo; echo '### README line ${LINES[$((n - 1))]}${tag:+ ($tag)}'"
  case "$tag" in
    "") sed "s/:8080\b/:$PORT/g" "$TMP/block-$n.sh" ;;
    sign-in\ *) echo "browser_sign_in ${tag#sign-in }" ;;
    postgres)
      sed -e "s/:8080\b/:$PORT/g" -e "s/datname = 'authio'/datname = '$PG_DB'/g" -e "s/postgres authio\$/postgres $PG_DB/" \
        -e "s#5432/authio?#5432/$PG_DB?#g" -e "s#6379/0#6379/3#g" -e 's/^bin\/authio serve$/serve_until_ready bin\/authio serve/' \
        "$TMP/block-$n.sh"
      ;;
    *) echo "echo 'unknown readme-check tag: $tag'; exit 1" ;;
  esac
}

{
  cat "$TMP/prelude.sh"
  echo "cd '$TMP/repo'"
  for ((n = 1; n <= BLOCKS; n++)); do
    [[ "$(cat "$TMP/block-$n.tag")" == postgres ]] || script_of "$n"
  done
} >"$TMP/walkthrough.sh"
log "running the walkthrough ($TMP/walkthrough.sh)"
if ! CHECK_TMP="$TMP" bash "$TMP/walkthrough.sh"; then
  log "FAIL: the walkthrough stopped (the block above is the one that failed)"
  exit 1
fi
PASSED=0
for ((n = 1; n <= BLOCKS; n++)); do
  [[ "$(cat "$TMP/block-$n.tag")" == postgres ]] || PASSED=$((PASSED + 1))
done

for ((n = 1; n <= BLOCKS; n++)); do
  [[ "$(cat "$TMP/block-$n.tag")" == postgres ]] || continue
  if [[ "${README_CHECK_POSTGRES:-1}" == 0 ]]; then
    log "skipping the Postgres block (README line ${LINES[$((n - 1))]})"
    continue
  fi
  script_of "$n" >"$TMP/postgres.sh"
  if grep -qE "'authio'|/authio\?| authio$" "$TMP/postgres.sh"; then
    log "FAIL: the Postgres block still names the database authio after substitution; refusing to run it"
    exit 1
  fi
  PG_USED=1
  for run in first second; do
    log "the Postgres block, $run run (database $PG_DB)"
    # A shell of its own, as a newcomer's: bin/authio was built by the walkthrough; the listener on a free port.
    if ! (cd "$TMP/repo" && CHECK_TMP="$TMP" AUTHIO_LISTEN="127.0.0.1:$(free_port)" \
      bash -c "$(cat "$TMP/prelude.sh"); export AUTHIO_LISTEN; $(cat "$TMP/postgres.sh")"); then
      log "FAIL: the Postgres block ($run run)"
      exit 1
    fi
  done
  PASSED=$((PASSED + 1))
done

log "$PASSED blocks passed"
