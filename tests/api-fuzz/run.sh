#!/usr/bin/env bash
# API fuzzing of the builder server's admin API with schemathesis (PyPI):
# starts `tessera dev` on a free loopback port with a fresh data folder and a
# stand-in widget build, then runs schemathesis against /api/openapi.json
# with the session's admin token. Fails on any 5xx, on a response that does
# not match the documented schema (error bodies included: every error
# response documents the JSON error shape), and, through hooks.py, on any
# error that is not {"error": {"code", "message"}}.
#
# Usage: tests/api-fuzz/run.sh [--max-examples N] [extra schemathesis args]
# Environment: TESSERA_BIN (default target/debug/tessera, built when missing),
# TESSERA_FUZZ_VENV (default target/tools/venv; created and filled from
# tests/api-fuzz/requirements.txt when schemathesis is missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${TESSERA_BIN:-$target/debug/tessera}"
venv="${TESSERA_FUZZ_VENV:-$target/tools/venv}"
max_examples=25
if [[ "${1:-}" == "--max-examples" ]]; then
  max_examples="$2"
  shift 2
fi

if [[ ! -x "$venv/bin/schemathesis" ]]; then
  echo "api-fuzz: installing schemathesis into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --requirement "$here/requirements.txt"
fi
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --quiet -p tessera-server --bin tessera)
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A stand-in widget build, so the snippet endpoint answers 200 (as in the
# server's integration tests).
mkdir -p "$work/widget"
printf '/* loader */' > "$work/widget/tessera.js"
printf '\0asm\1\0\0\0' > "$work/widget/tessera-0123abcd.wasm"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" dev --port "$port" --data-dir "$work/data" --widget-dir "$work/widget" > "$work/server.log" 2>&1 &
server_pid=$!
token=""
for _ in $(seq 1 100); do
  token="$(sed -n 's/^ *admin token *\(tsa_[A-Za-z0-9_-]*\).*/\1/p' "$work/server.log")"
  [[ -n "$token" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
if [[ -z "$token" ]]; then
  echo "api-fuzz: tessera dev did not print an admin token:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

status=0
# From the scratch folder, so schemathesis's cache stays out of the tree.
cd "$work"
SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" "$venv/bin/schemathesis" run \
  "http://127.0.0.1:$port/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method,ignored_auth,use_after_free,ensure_resource_availability,error_is_json_error \
  --max-examples "$max_examples" \
  --workers 1 \
  --request-timeout 10 \
  --seed 11 \
  --no-color \
  --generation-database none \
  "$@" || status=$?
if grep -q 'panicked' "$work/server.log"; then
  echo "api-fuzz: the server panicked:" >&2
  grep -A3 'panicked' "$work/server.log" >&2
  status=1
fi
exit "$status"
