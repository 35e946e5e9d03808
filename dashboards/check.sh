#!/bin/sh
# Validates the Grafana dashboards in dashboards/*.json without Grafana:
#   - every panel (rows excepted: they only group panels) has a description
#     and a unit, and queries the `${datasource}` variable;
#   - no datasource anywhere names a uid other than "${datasource}", and a
#     `datasource` variable of type datasource (prometheus) exists;
#   - every variable referenced ($var, ${var}, [[var]]) is defined, or is one
#     of Grafana's $__rate_interval, $__range, $__all;
#   - a variable is only matched with =~ or !~ (so "All", allValue ".*",
#     works) and every multi-value variable has allValue ".*";
#   - no variable name is a prefix of another ($app would clobber $app_key
#     when variables are replaced textually);
#   - panel ids are unique and every query is valid PromQL once variables are
#     replaced textually (promtool check rules).
# Exits non-zero on any failure, and when python3 or promtool is missing.
# PROMTOOL overrides the promtool binary.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
promtool=${PROMTOOL:-promtool}

for tool in python3 "$promtool"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "dashboards/check.sh: $tool not found" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$dir" "$tmp/queries.yml" <<'PY'
import glob
import json
import os
import re
import sys

BUILTINS = {"__rate_interval", "__range", "__all"}
# What the end-to-end test substitutes as well: plain text replacement.
SUBSTITUTE = {"__rate_interval": "1m", "__range": "1h"}
DS_UID = "${datasource}"
REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")
QUOTED_VAR = re.compile(r'(=~|!~|!=|=)\s*"(?:\$\{\w+(?::[^}]*)?\}|\$\w+)"')

errors = []
queries = []


def fail(where, msg):
    errors.append(f"{where}: {msg}")


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def walk(node, path=""):
    """Yields (path, key, value) for every dict entry in node."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def substitute(expr, names):
    for name in sorted(names, key=len, reverse=True):
        value = SUBSTITUTE.get(name, ".*")
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


files = sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))
if not files:
    fail(sys.argv[1], "no dashboards")
for path in files:
    name = os.path.basename(path)
    try:
        with open(path) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        fail(name, f"not valid JSON: {e}")
        continue

    variables = dash.get("templating", {}).get("list", [])
    defined = {v.get("name") for v in variables}
    if not any(v.get("name") == "datasource" and v.get("type") == "datasource" and v.get("query") == "prometheus"
               for v in variables):
        fail(name, 'no variable "datasource" of type datasource (prometheus)')
    for a in defined:
        for b in defined:
            if a != b and b.startswith(a):
                fail(name, f"variable {a} is a prefix of variable {b}")
    for v in variables:
        if v.get("multi") or v.get("includeAll"):
            if v.get("allValue") != ".*":
                fail(name, f'variable {v.get("name")}: allValue must be ".*"')

    for where, key, value in walk(dash):
        if key == "datasource":
            uid = value.get("uid") if isinstance(value, dict) else value
            if uid != DS_UID:
                fail(name, f"{where}: datasource {json.dumps(value)} is not {DS_UID}")

    for s in strings(dash):
        for m in REF.finditer(s):
            ref = m.group(1) or m.group(2) or m.group(3)
            if ref not in defined and ref not in BUILTINS:
                fail(name, f"undefined variable ${ref} in {s!r}")

    ids = set()
    for p in panels(dash.get("panels", [])):
        title = f'panel {p.get("id")} "{p.get("title")}"'
        if p.get("id") in ids:
            fail(name, f"{title}: duplicate id")
        ids.add(p.get("id"))
        if p.get("type") == "row":
            continue
        if not str(p.get("description", "")).strip():
            fail(name, f"{title}: no description")
        if not str(p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")).strip():
            fail(name, f"{title}: no unit")
        if not p.get("targets"):
            fail(name, f"{title}: no queries")
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if not expr.strip():
                fail(name, f"{title} query {t.get('refId')}: no expr")
                continue
            for m in QUOTED_VAR.finditer(expr):
                if m.group(1) not in ("=~", "!~"):
                    fail(name, f"{title} query {t.get('refId')}: variable matched with {m.group(1)}, use =~")
            record = re.sub(r"\W", "_", f'{name}_panel_{p.get("id")}_{t.get("refId")}')
            queries.append((record, substitute(expr, defined | BUILTINS)))

with open(sys.argv[2], "w") as f:
    # Each query as a recording rule named after its file, panel and refId.
    rules = [{"record": record, "expr": expr} for record, expr in queries]
    json.dump({"groups": [{"name": "dashboard_queries", "rules": rules}]}, f, indent=1)

for e in errors:
    print(f"dashboards/check.sh: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
PY

"$promtool" check rules "$tmp/queries.yml" >/dev/null
echo "dashboards/check.sh: dashboards valid"
