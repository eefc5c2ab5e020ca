#!/usr/bin/env bash
# Fuzz the REST API with schemathesis: every operation of /api/v1/openapi.json, every check,
# as two roles (a dispatcher and a grid administrator), against a fresh demo served by
# `civicgrid serve`. Prints the figures of each role's run and exits non-zero when any check
# failed (a server error, a response outside the schema, accepted bad input, ...).
#
#   benchmarks/fuzz.sh            full run: 5,000+ cases in all (FUZZ_EXAMPLES per operation)
#   benchmarks/fuzz.sh --short    a few hundred cases, for CI
#
# Needs the `fuzz` extra: pip install -e '.[fuzz]'. FUZZ_PORT (default 8765), FUZZ_SEED and
# FUZZ_EXAMPLES override the defaults. FUZZ_DATA_DIR fuzzes the demo already built in that
# data directory (CI's smoke test built one a minute before) instead of building a new one
# in a temporary directory; the run writes its cases, tokens and logs there.
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${FUZZ_EXAMPLES:-60}"
phases="examples,coverage,fuzzing"
if [[ "${1:-}" == "--short" ]]; then
  examples="${FUZZ_EXAMPLES:-3}"
  phases="examples,fuzzing"
fi
port="${FUZZ_PORT:-8765}"
seed="${FUZZ_SEED:-1}"
bin="${VENV:-.venv}/bin"

data="${FUZZ_DATA_DIR:-}"
temporary=""
if [[ -z "$data" ]]; then data="$(mktemp -d)"; temporary="$data"; fi
export CIVICGRID_DATA_DIR="$data"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [[ -n "$temporary" ]]; then rm -rf "$temporary"; fi
}
trap cleanup EXIT

"$bin/civicgrid" demo --no-serve >"$data/demo.log" 2>&1  # reused where it exists
dispatcher="$("$bin/civicgrid" token create dispatcher --name fuzz)"
gridadmin="$("$bin/civicgrid" token create gridadmin --name fuzz)"

"$bin/civicgrid" serve --addr "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.5
done

# Real identifiers from the demo, offered half of the time for path parameters so requests
# also reach past the 404 of a made-up case number or grid code.
"$bin/python" - "$port" "$dispatcher" "$data" <<'PY'
import json, sys, urllib.request
port, token, data = sys.argv[1:]
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/api/v1/cases?limit=5",
    headers={"Authorization": f"Bearer {token}"},
)
cases = [case["number"] for case in json.load(urllib.request.urlopen(request))]
with open(f"{data}/demo-accounts.json") as accounts:
    grids = sorted({a["grid"] for a in json.load(accounts) if a.get("grid")})
with open("benchmarks/schemathesis.toml") as base:
    config = base.read()
config += f"""
[dictionaries.case_refs]
values = {json.dumps(cases)}

[dictionaries.grid_codes]
values = {json.dumps(grids)}

[dictionaries.registry_kinds]
values = ["houses", "persons", "legal-persons", "components"]

[parameters]
"path.ref" = {{ dictionary = "case_refs", probability = 0.5 }}
"path.code" = {{ dictionary = "grid_codes", probability = 0.5 }}
"path.kind" = {{ dictionary = "registry_kinds", probability = 0.5 }}
"""
with open(f"{data}/schemathesis.toml", "w") as out:
    out.write(config)
PY

status=0
for role in dispatcher gridadmin; do
  token="${!role}"
  echo "== schemathesis as $role ($examples examples per operation, phases $phases)"
  "$bin/st" --config-file "$data/schemathesis.toml" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --checks all --phases "$phases" --max-examples "$examples" --seed "$seed" \
    --workers 1 --header "Authorization: Bearer $token" --header "Accept-Language: en" \
    --request-timeout 30 --no-color --generation-database none --report junit --report-dir "$data/report-$role" \
    || status=1
  # The junit report counts the test cases schemathesis generated and sent.
  "$bin/python" - "$data/report-$role" <<'PY' || true
import pathlib, sys, xml.etree.ElementTree as ET
for path in pathlib.Path(sys.argv[1]).glob("*.xml"):
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    print(f"   junit: {suite.get('tests')} operations, {suite.get('failures')} failed, "
          f"{suite.get('errors')} errors")
PY
done
# Django logs every unhandled exception ("Internal Server Error: PATH") with its traceback.
server_errors=$(grep -c "Internal Server Error" "$data/server.log" || true)
echo "== server log: ${server_errors} internal server errors"
if [[ "$server_errors" != "0" ]]; then
  grep -m 10 -A30 "Internal Server Error" "$data/server.log" || true
  status=1
fi
exit "$status"
