# The "signin" scenario of scripts/bench.sh, which sources this file (it uses log, die, field, pg_xacts,
# cpu_snapshot, cpu_delta, cli_json, json_get, BASE, PORT, DURATION, TMP, RESULTS, SERVER_PID, BIN). See
# BENCHMARKS.md.
#
#   BENCH_SCENARIOS=signin bash scripts/bench.sh
#
# Full hosted password sign-ins per second (scripts/signinbench: authorize -> email step -> password -> code ->
# token, each sign-in with its own cookies), at each of BENCH_SIGNIN_CONNS sign-ins in flight, next to the
# machine's raw bcrypt rate at the configured cost (go test ./scripts/signinbench -bench): the hash is the bound.
#
#   BENCH_SIGNIN_CONNS   sign-ins in flight (default "2 8")
#   AUTHIO_PASSWORD_COST the bcrypt cost the server and the raw benchmark use (default: the server's, 12)

SIGNIN_CONNS="${BENCH_SIGNIN_CONNS:-2 8}"
SIGNIN_HOST="si.localhost:${PORT}"
SIGNIN_EMAIL="signer@si.bench.test"
SIGNIN_PASSWORD="Bench-Signin-Password-1"
SIGNIN_REDIRECT="http://127.0.0.1:${PORT}/bench-callback" # registered, never followed

signin_run() {
  local cost="${AUTHIO_PASSWORD_COST:-12}" client c out line snap0 snap1 w0 w1 x0 x1 txr
  log "signin: raw bcrypt rate at cost $cost (go test ./scripts/signinbench -bench, -benchtime $SIGN_BENCHTIME)"
  BENCH_BCRYPT_COST="$cost" go test ./scripts/signinbench -run '^$' -bench . -cpu 1,2 -benchtime "$SIGN_BENCHTIME" |
    tee "$TMP/bcrypt.txt"
  rate() { awk -v n="$1" '$1 == n { for (i = 2; i < NF; i++) if ($(i+1) == "ops/s") { print $i; exit } }' "$TMP/bcrypt.txt"; }
  RAW_BCRYPT_1="$(rate BenchmarkBcryptCheck)"
  RAW_BCRYPT_2="$(rate BenchmarkBcryptCheck-2)"
  [[ -n "$RAW_BCRYPT_2" ]] || die "could not read the bcrypt benchmark"
  BCRYPT_COST="$cost"

  cli_json si-tenant tenant create --slug si --name "Bench sign-in"
  cli_json si-user user create --tenant si --email "$SIGNIN_EMAIL" --password "$SIGNIN_PASSWORD"
  cli_json si-client client create --tenant si --name bench-signin --type public --redirect-uri "$SIGNIN_REDIRECT" \
    --grant authorization_code,refresh_token
  client="$(json_get client_id <"$TMP/si-client.json")" || die "no client_id in $(cat "$TMP/si-client.json")"
  go build -o "$TMP/signinbench" ./scripts/signinbench || die "building scripts/signinbench failed"
  for c in $SIGNIN_CONNS; do
    log "signin: full hosted sign-ins, $c in flight, $DURATION"
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died before signin/$c"
    x0="$(pg_xacts)"; snap0="$(cpu_snapshot)"; w0="$(date +%s.%N)"
    out="$TMP/wrk-signin-$c.txt"
    "$TMP/signinbench" -issuer "http://$SIGNIN_HOST" -client "$client" -redirect "$SIGNIN_REDIRECT" \
      -email "$SIGNIN_EMAIL" -password "$SIGNIN_PASSWORD" -c "$c" -d "$DURATION" >"$out" 2>&1 ||
      { cat "$out" >&2; die "signinbench failed at $c in flight"; }
    snap1="$(cpu_snapshot)"; w1="$(date +%s.%N)"
    cat "$out"
    line="$(grep '^BENCH_RESULT ' "$out" | tail -n1)" || die "no BENCH_RESULT from signinbench at $c"
    sleep 1.2
    x1="$(pg_xacts)"
    txr="$(awk -v a="$x0" -v b="$x1" -v r="$(field requests "$line")" 'BEGIN { if (r > 0) printf "%.2f", (b - a) / r; else print 0 }')"
    echo "$line $(cpu_delta "$snap0" "$snap1" "$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')") db_tx_per_req=$txr" >>"$RESULTS"
  done
}

# signin_summary: the targets line of the scenario (reported, no target): best sign-ins/s against the raw rate.
signin_summary() {
  local b
  b="$(awk '$0 ~ " scenario=signin " { for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, a, "="); if (a[2] > m) m = a[2] } } END { printf "%.1f", m + 0 }' "$RESULTS")"
  printf '  ----  %-44s %s\n' "signin: reported, no target" \
    "$b sign-ins/s; raw bcrypt (cost $BCRYPT_COST) $RAW_BCRYPT_1/s (1 core), $RAW_BCRYPT_2/s (2 cores)"
}
