#!/bin/sh
# Checks the Prometheus rules in alerts/: syntax (promtool check rules, the
# demo's alerts/demo/ too),
# behaviour (promtool test rules alerts/tests/*.yml), coverage (every alert
# and every recording rule is named by at least one test) and runbook links
# (docs/runbooks.md#<alertname in lower case>, and that section exists). Run from anywhere;
# exits non-zero on any failure, and when promtool is missing so that CI
# never skips the check silently. PROMTOOL overrides the promtool binary.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null 2>&1; then
	echo "alerts/check.sh: $promtool not found; install it (Debian: apt-get install prometheus) or set PROMTOOL" >&2
	exit 1
fi

"$promtool" check rules "$dir"/*.yml "$dir"/demo/*.yml
"$promtool" test rules "$dir"/tests/*.yml

failed=0
# The generated YAML quotes strings; hand-written tests may not.
for name in $(sed -n 's/^ *- alert: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$dir"/*.yml); do
	if ! grep -Eq "alertname: \"?$name\"?\$" "$dir"/tests/*.yml; then
		echo "alerts/check.sh: alert $name has no alert_rule_test" >&2
		failed=1
	fi
	anchor=$(echo "$name" | tr '[:upper:]' '[:lower:]')
	if ! grep -q "runbook_url: \"https://github.com/imstats/imstats_exporter/blob/main/docs/runbooks.md#$anchor\"\$" "$dir"/*.yml; then
		echo "alerts/check.sh: alert $name has no runbook_url to docs/runbooks.md#$anchor" >&2
		failed=1
	fi
	# A heading that is the alert's name has the anchor #<name in lower case>.
	if ! grep -Eq "^#{2,4} $name\$" "$dir"/../docs/runbooks.md; then
		echo "alerts/check.sh: docs/runbooks.md has no section \"## $name\"" >&2
		failed=1
	fi
done
for name in $(sed -n 's/^ *\(- \)\{0,1\}record: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\2/p' "$dir"/*.yml); do
	if ! grep -Eq "expr: [\"']?$name(\{[^}]*\})?[\"']?\$" "$dir"/tests/*.yml; then
		echo "alerts/check.sh: recording rule $name has no promql_expr_test" >&2
		failed=1
	fi
done
exit "$failed"
