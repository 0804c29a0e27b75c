# The "scale" scenario of scripts/bench.sh, which sources this file (it uses the functions and variables defined
# there: log, die, field, pg_xacts, wrk_run, start_server, stop_server, BASE, ADMIN_PORT, PORT, AUDIENCE, CC_BODY,
# CONNS, DURATION, THREADS, TMP, RESULTS, SERVER_PID). See BENCHMARKS.md.
#
#   BENCH_SCENARIOS=scale bash scripts/bench.sh
#
# 1. BENCH_SCALE_ES_PROBE ES256 tenants, then BENCH_TENANTS tenants of BENCH_SCALE_ALG, each with a
#    client-credentials client, are created through the bulk path (POST /admin/v1/tenants:import on the admin
#    listener), timed, with the Postgres transactions they cost;
# 2. the server restarts (memory and caches start empty), and the first and second requests of BENCH_SCALE_COLD
#    cold tenants are timed (a token, and JWKS on other cold tenants);
# 3. one sweep per endpoint over every tenant warms the caches (as long as the rate of a 5 s probe says it takes),
#    then wrk runs issuance, JWKS and discovery on one tenant and spread over all of them (a random tenant per
#    request), at each of BENCH_CONNS;
# 4. the server's RSS (now and peak) and live heap (after a GC) are read, with the cache's size.

SCALE_N="${BENCH_TENANTS:-10000}"
SCALE_ALG="${BENCH_SCALE_ALG:-RS256}"
SCALE_ES="${BENCH_SCALE_ES_PROBE:-1000}"
SCALE_COLD="${BENCH_SCALE_COLD:-20}"
SCALE_REPEAT="${BENCH_SCALE_REPEAT:-2}"
SCALE_ENDPOINTS="${BENCH_SCALE_ENDPOINTS:-cc jwks discovery}"
SCALE_RS="${BENCH_SCALE_RS_PROBE:-200}"
SCALE_POOL="${BENCH_SCALE_POOL:-$SCALE_N}"
SCALE_FACTS="$TMP/scale-facts.txt"
SCALE_ADMIN="http://127.0.0.1:${ADMIN_PORT}"

scale_fact() { echo "$1=$2" >>"$SCALE_FACTS"; }
scale_get() { sed -n "s/^$1=//p" "$SCALE_FACTS" | tail -n1; }

# scale_lines PREFIX COUNT ALG: import lines for tenants PREFIX00001…, each with one machine client
scale_lines() {
  awk -v p="$1" -v n="$2" -v alg="$3" -v aud="$AUDIENCE" 'BEGIN {
    for (i = 1; i <= n; i++)
      printf "{\"slug\":\"%s%05d\",\"signing_alg\":\"%s\",\"clients\":[{\"name\":\"m2m\",\"type\":\"confidential\"," \
        "\"grant_types\":[\"client_credentials\"],\"audiences\":[\"%s\"],\"scopes\":[\"read\"]}]}\n", p, i, alg, aud
  }'
}

# scale_import NAME FILE: imports FILE through the tenant API; records NAME_tenants, NAME_secs, NAME_rate (tenants/s)
# and NAME_tx (Postgres transactions per tenant). Every line must be created.
scale_import() {
  local name=$1 file=$2 out="$TMP/import-$1.jsonl" t0 t1 x0 x1 code n created
  n="$(wc -l <"$file")"
  log "scale: importing $n tenants ($name) through POST /admin/v1/tenants:import"
  x0="$(pg_xacts)"; t0="$(date +%s.%N)"
  code="$(curl -s -m 3600 -o "$out" -w '%{http_code}' -H "Authorization: Bearer $AUTHIO_ADMIN_TOKEN" \
    -H 'Content-Type: application/x-ndjson' --data-binary @"$file" "$SCALE_ADMIN/admin/v1/tenants:import")" || code=curl-failed
  t1="$(date +%s.%N)"
  [[ "$code" == 200 ]] || die "import $name: HTTP $code: $(head -c 300 "$out")"
  created="$(grep -c '"status":"created"' "$out" || true)"
  [[ "$created" == "$n" ]] || die "import $name: $created of $n lines created; e.g. $(grep -v '"status":"created"' "$out" | head -n 2)"
  sleep 11   # idle backends flush their statistics within 10 s
  x1="$(pg_xacts)"
  scale_fact "${name}_tenants" "$n"
  scale_fact "${name}_secs" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  scale_fact "${name}_rate" "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }')"
  scale_fact "${name}_tx" "$(awk -v a="$x0" -v b="$x1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }')"
  log "scale: $name: $n tenants in $(scale_get "${name}_secs") s = $(scale_get "${name}_rate")/s, $(scale_get "${name}_tx") Postgres transactions per tenant"
}

# scale_pool_fill N: `authio key pool fill` generates N RSA keys into the key pool on every core, as a control plane
# does before a burst of RS256 tenants; records pool_keys, pool_secs and pool_rate (keys/s)
scale_pool_fill() {
  local t0 t1
  log "scale: filling the key pool with $1 RSA keys (authio key pool fill, every core)"
  t0="$(date +%s.%N)"
  "$BIN" key pool fill --count "$1" >"$TMP/pool-fill.json" 2>"$TMP/pool-fill.err" ||
    { cat "$TMP/pool-fill.err" >&2; die "key pool fill failed"; }
  t1="$(date +%s.%N)"
  scale_fact pool_keys "$1"
  scale_fact pool_secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  scale_fact pool_rate "$(awk -v a="$t0" -v b="$t1" -v n="$1" 'BEGIN { printf "%.1f", n / (b - a) }')"
  log "scale: key pool: $1 keys in $(scale_get pool_secs) s = $(scale_get pool_rate) keys/s ($(tr -d '\n' <"$TMP/pool-fill.json"))"
}

# scale_memory WHEN: the server's RSS now and at its peak, its live heap after a GC, and the cache's size
scale_memory() {
  local when=$1 heap
  scale_fact "rss_${when}_mib" "$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")"
  scale_fact "hwm_${when}_mib" "$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")"
  heap="$(curl -s -m 30 "$SCALE_ADMIN/debug/pprof/heap?debug=1&gc=1" | sed -n 's/^# HeapAlloc = \([0-9]*\).*/\1/p')"
  scale_fact "heap_${when}_mib" "$(awk -v b="${heap:-0}" 'BEGIN { printf "%.0f", b / 1048576 }')"
  curl -s -m 10 "$SCALE_ADMIN/metrics" >"$TMP/metrics-$when.txt" || true
  scale_fact "cache_${when}_mib" "$(awk '/^authio_cache_bytes / { printf "%.1f", $2 / 1048576 }' "$TMP/metrics-$when.txt")"
  scale_fact "cache_${when}_entries" "$(awk '/^authio_cache_entries / { printf "%.0f", $2 }' "$TMP/metrics-$when.txt")"
  log "scale: memory $when: RSS $(scale_get "rss_${when}_mib") MiB (peak $(scale_get "hwm_${when}_mib")), live heap $(scale_get "heap_${when}_mib") MiB, cache $(scale_get "cache_${when}_mib") MiB in $(scale_get "cache_${when}_entries") entries"
}

# scale_probe PATH METHOD HOST AUTH -> "status seconds" of one request
scale_probe() {
  local args=(-s -m 30 -o /dev/null -w '%{http_code} %{time_total}' -H "Host: $3")
  [[ "$2" == POST ]] && args+=(-H "Authorization: $4" -H 'Content-Type: application/x-www-form-urlencoded' --data "$CC_BODY")
  curl "${args[@]}" "$BASE$1" || echo "curl-failed 0"
}

# scale_cold NAME PATH METHOD LINES: times the first and the second request on each cold tenant of LINES
scale_cold() {
  local name=$1 path=$2 method=$3 lines=$4 host auth first second
  : >"$TMP/cold-$name.txt"
  while IFS=$'\t' read -r host auth; do
    read -r s1 first <<<"$(scale_probe "$path" "$method" "$host" "$auth")"
    read -r s2 second <<<"$(scale_probe "$path" "$method" "$host" "$auth")"
    [[ "$s1" == 200 && "$s2" == 200 ]] || die "cold $name on $host: HTTP $s1 then $s2"
    echo "$first $second" >>"$TMP/cold-$name.txt"
  done <"$lines"
  # median and max of the first requests, median of the second, in ms
  scale_fact "cold_${name}_first_p50_ms" "$(cut -d' ' -f1 "$TMP/cold-$name.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", 1000 * a[int((NR + 1) / 2)] }')"
  scale_fact "cold_${name}_first_max_ms" "$(cut -d' ' -f1 "$TMP/cold-$name.txt" | sort -n | awk '{ m = $1 } END { printf "%.1f", 1000 * m }')"
  scale_fact "cold_${name}_second_p50_ms" "$(cut -d' ' -f2 "$TMP/cold-$name.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", 1000 * a[int((NR + 1) / 2)] }')"
  log "scale: cold $name: first request p50 $(scale_get "cold_${name}_first_p50_ms") ms, max $(scale_get "cold_${name}_first_max_ms") ms; second p50 $(scale_get "cold_${name}_second_p50_ms") ms"
}

# scale_scenario ENDPOINT: sets S_* for wrk_run (the Host comes from the targets file)
scale_scenario() {
  S_METHOD=GET S_BODY="" S_AUTH="" S_CTYPE="application/x-www-form-urlencoded" S_HOST=""
  case "$1" in
    cc)        S_DESC="scale: client_credentials $SCALE_ALG"; S_METHOD=POST S_PATH=/oauth/token S_BODY="$CC_BODY" S_AUTH=targets ;;
    jwks)      S_DESC="scale: JWKS"; S_PATH=/.well-known/jwks.json ;;
    discovery) S_DESC="scale: discovery"; S_PATH=/.well-known/openid-configuration ;;
  esac
}

# scale_sweep ENDPOINT SECONDS: wrk taking the tenants in turn (each thread from its own offset) for SECONDS
scale_sweep() {
  local out="$TMP/sweep-$1-$2.txt"
  log "scale: sweeping $1 over the tenants for $2 s"
  BENCH_METHOD="$S_METHOD" BENCH_BODY="$S_BODY" BENCH_AUTH="$S_AUTH" BENCH_CONTENT_TYPE="$S_CTYPE" \
  BENCH_SCENARIO="sweep_$1" BENCH_CONNS=16 BENCH_TARGETS="$TMP/targets-all.txt" BENCH_SWEEP=1 BENCH_THREADS="$THREADS" \
    wrk -t"$THREADS" -c16 -d"$2s" --timeout 5s -s "$LUA" "$BASE$S_PATH" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed sweeping $1"; }
  grep '^BENCH_RESULT' "$out" | sed 's/^/  /' >&2 || true
  local bad
  bad="$(field non2xx "$(grep '^BENCH_RESULT' "$out" | tail -n1)")"
  [[ "${bad:-1}" == 0 ]] || { cat "$out" >&2; die "scale: $bad responses of the $1 sweep were not 2xx"; }
}

scale_run() {
  : >"$SCALE_FACTS"
  scale_fact alg "$SCALE_ALG"
  scale_fact tenants "$SCALE_N"
  if [[ "$SCALE_ES" -gt 0 ]]; then
    scale_lines e "$SCALE_ES" ES256 >"$TMP/scale-es.jsonl"
    scale_import import_es256 "$TMP/scale-es.jsonl"
  fi
  if [[ "$SCALE_ALG" == RS256 ]]; then
    if [[ "$SCALE_RS" -gt 0 ]]; then
      # RS256 tenants while the key pool is empty: each import generates its key (the CPU bound without a pool)
      scale_lines r "$SCALE_RS" RS256 >"$TMP/scale-rs.jsonl"
      scale_import import_rs256_generated "$TMP/scale-rs.jsonl"
    fi
    if [[ "$SCALE_POOL" -gt 0 ]]; then
      scale_pool_fill "$SCALE_POOL"
    fi
  fi
  scale_lines s "$SCALE_N" "$SCALE_ALG" >"$TMP/scale.jsonl"
  scale_import import "$TMP/scale.jsonl"

  # host<TAB>client_secret_basic of every imported tenant (ids and secrets are URL-safe: no escaping needed)
  jq -r --arg port "$PORT" 'select(.status == "created") |
    "\(.tenant.domains[0]):\($port)\tBasic \("\(.clients[0].client_id):\(.clients[0].client_secret)" | @base64)"' \
    "$TMP/import-import.jsonl" >"$TMP/targets-all.txt"
  head -n 1 "$TMP/targets-all.txt" >"$TMP/targets-one.txt"
  [[ "$(wc -l <"$TMP/targets-all.txt")" == "$SCALE_N" ]] || die "scale: targets file incomplete"

  log "scale: restarting the server (empty caches, fresh memory)"
  stop_server
  start_server
  sleep 2
  scale_memory idle
  tail -n "$SCALE_COLD" "$TMP/targets-all.txt" >"$TMP/cold-token.tsv"
  tail -n "$((2 * SCALE_COLD))" "$TMP/targets-all.txt" | head -n "$SCALE_COLD" >"$TMP/cold-jwks.tsv"
  scale_cold token /oauth/token POST "$TMP/cold-token.tsv"
  scale_cold jwks /.well-known/jwks.json GET "$TMP/cold-jwks.tsv"

  local ep mode c first=1
  for ep in $SCALE_ENDPOINTS; do
    # Each endpoint on a server of its own (empty caches), warmed by its own sweep: the cache's entries expire
    # between four fifths of the safety TTL (10 minutes) and the TTL after they were loaded, so every tenant's
    # entries, loaded together by one sweep, would be read again together if the runs went on that long — a
    # wave no steady state has (there a tenant's entries are read again once per TTL, at random moments).
    if [[ $first == 0 ]]; then
      log "scale: restarting the server for $ep (empty caches)"
      stop_server
      start_server
      sleep 2
    fi
    first=0
    scale_scenario "$ep"
    scale_warm "$ep"
    # one, all, all, one, …: drift on a shared machine weighs on both alike; the summary averages the runs.
    local order="" i settle=1.2
    for ((i = 0; i < SCALE_REPEAT; i++)); do
      if ((i % 2 == 0)); then order+=" one all"; else order+=" all one"; fi
    done
    [[ "$ep" == cc ]] && settle=11   # Postgres transactions per token are read after idle backends flushed
    # The measured runs leave responses unread by Lua (wrk counts the >= 400 ones): a response callback would
    # make LuaJIT intern each body, free when every body is the same (one tenant) and not when each tenant's
    # differs, a client cost that would count against the server. The sweeps above did check every status.
    for c in $CONNS; do
      for mode in $order; do
        BENCH_COUNT_STATUS=0 wrk_run "scale_${ep}_$mode" "$c" "$TMP/targets-$mode.txt" "$settle"
      done
    done
  done
  # Every kind of entry of every tenant loaded (one sweep of each endpoint), then the memory.
  for ep in $SCALE_ENDPOINTS; do
    scale_scenario "$ep"
    scale_warm "$ep"
  done
  scale_memory after
}

# scale_warm ENDPOINT: one pass over every tenant, so that what follows measures a steady state, not first
# requests: a 5 s probe gives the rate, then a sweep long enough for every tenant at that rate (and a fifth more).
scale_warm() {
  local rate secs
  scale_sweep "$1" 5
  rate="$(field rps "$(grep '^BENCH_RESULT' "$TMP/sweep-$1-5.txt" | tail -n1)")"
  secs="$(awk -v n="$SCALE_N" -v r="$rate" 'BEGIN { s = (r > 0) ? 1.2 * n / r : 600; printf "%d", (s < 5) ? 5 : s + 1 }')"
  scale_sweep "$1" "$secs"
}

# scale_summary: the scale figures and a pass/fail line per target of issue 11, for the summary
scale_summary() {
  local f=$SCALE_FACTS ep c one all ratio tone tall
  # at SCENARIO CONNS KEY: the mean of KEY over the runs of SCENARIO at CONNS
  at() { awk -v s="$1" -v c="$2" -v k="$3" '$0 ~ " scenario="s" " && $0 ~ " conns="c" " { for (i = 1; i <= NF; i++) if (index($i, k"=") == 1) { t += substr($i, length(k) + 2); n++ } } END { printf "%.2f", (n > 0) ? t / n : 0 }' "$RESULTS"; }
  echo "scale: $(scale_get tenants) $(scale_get alg) tenants, each with a client-credentials client (one vs all: the mean of $SCALE_REPEAT runs each)"
  echo "  import ($(scale_get alg)): $(scale_get import_tenants) tenants in $(scale_get import_secs) s = $(scale_get import_rate) tenants/s, $(scale_get import_tx) Postgres tx per tenant"
  [[ -n "$(scale_get import_es256_rate)" ]] &&
    echo "  import (ES256):  $(scale_get import_es256_tenants) tenants in $(scale_get import_es256_secs) s = $(scale_get import_es256_rate) tenants/s, $(scale_get import_es256_tx) Postgres tx per tenant"
  [[ -n "$(scale_get import_rs256_generated_rate)" ]] &&
    echo "  import (RS256, empty key pool: keys generated): $(scale_get import_rs256_generated_tenants) tenants in $(scale_get import_rs256_generated_secs) s = $(scale_get import_rs256_generated_rate) tenants/s"
  [[ -n "$(scale_get pool_rate)" ]] &&
    echo "  key pool filled before the $(scale_get alg) import: $(scale_get pool_keys) RSA keys in $(scale_get pool_secs) s = $(scale_get pool_rate) keys/s (authio key pool fill, every core)"
  echo "  memory: RSS $(scale_get rss_idle_mib) MiB idle after the restart; after the runs $(scale_get rss_after_mib) MiB (peak $(scale_get hwm_after_mib)), live heap $(scale_get heap_after_mib) MiB, cache $(scale_get cache_after_mib) MiB in $(scale_get cache_after_entries) entries"
  echo "  cold tenant, first request: token p50 $(scale_get cold_token_first_p50_ms) ms (max $(scale_get cold_token_first_max_ms)), second $(scale_get cold_token_second_p50_ms) ms; JWKS p50 $(scale_get cold_jwks_first_p50_ms) ms (max $(scale_get cold_jwks_first_max_ms)), second $(scale_get cold_jwks_second_p50_ms) ms"
  for ep in $SCALE_ENDPOINTS; do
    for c in $CONNS; do
      one="$(at "scale_${ep}_one" "$c" rps)"; all="$(at "scale_${ep}_all" "$c" rps)"
      ratio="$(awk -v a="$all" -v o="$one" 'BEGIN { printf "%.3f", (o > 0) ? a / o : 0 }')"
      check "scale $ep, $c conns: all tenants >= 90% of one" "$(ge "$ratio" 0.90)" "$(printf '%.0f / %.0f req/s = %s' "$all" "$one" "$ratio")"
    done
  done
  for c in $CONNS; do
    tone="$(at scale_cc_one "$c" db_tx_per_req)"; tall="$(at scale_cc_all "$c" db_tx_per_req)"
    check "scale Postgres tx/token flat, $c conns (+0.1 at most)" "$(awk -v a="$tall" -v o="$tone" 'BEGIN { print (a <= o + 0.1) ? 1 : 0 }')" "$tall all vs $tone one"
  done
  check "scale RSS after the runs < 250 MiB" "$(awk -v r="$(scale_get rss_after_mib)" 'BEGIN { print (r < 250) ? 1 : 0 }')" "$(scale_get rss_after_mib) MiB"
  local from=""
  [[ -n "$(scale_get pool_rate)" ]] && from=", keys from the pool"
  check "scale import >= 100 tenants/s ($(scale_get alg)$from)" "$(ge "$(scale_get import_rate)" 100)" "$(scale_get import_rate)/s"
  [[ -n "$(scale_get import_es256_rate)" ]] &&
    check "scale import >= 100 tenants/s (ES256)" "$(ge "$(scale_get import_es256_rate)" 100)" "$(scale_get import_es256_rate)/s"
  return 0
}
