#!/usr/bin/env bash
# Builds promtool and prometheus 3 from the Go module
# github.com/prometheus/prometheus at PROMETHEUS3_VERSION with `go`, through
# the module proxy, into a cache directory that survives between runs:
#   ${IMSTATS_CACHE:-/var/cache/imstats}/prometheus-<version>/{promtool,prometheus}
# The build is skipped when both binaries are already there. Prints the
# directory holding them on stdout (progress goes to stderr).
set -euo pipefail

version=${PROMETHEUS3_VERSION:-v0.316.0}
cache=${IMSTATS_CACHE:-/var/cache/imstats}
out="$cache/prometheus-$version"
go=${GO:-go}

if [ -x "$out/promtool" ] && [ -x "$out/prometheus" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo ".ci/prometheus3.sh: downloading github.com/prometheus/prometheus@$version" >&2
dir=$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod "$go" mod download -json "github.com/prometheus/prometheus@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
	echo ".ci/prometheus3.sh: go mod download gave no module directory" >&2
	exit 1
fi

# The module cache is read-only: build in a writable copy, outside any
# workspace (the module ships a go.work), so that its go.mod, with its own
# replace directives, and go.sum apply as the project wrote them.
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
echo ".ci/prometheus3.sh: building promtool and prometheus $version (takes minutes)" >&2
mkdir -p "$work/bin"
(
	cd "$work/src"
	# The web UI assets are not in the module; the builtinassets tag is not
	# set, so the server serves its API without the React UI, which the tests
	# do not use.
	GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" build -trimpath \
		-ldflags "-X github.com/prometheus/common/version.Version=$version" \
		-o "$work/bin/" ./cmd/promtool ./cmd/prometheus
)
"$work/bin/promtool" --version >&2
mkdir -p "$out.tmp"
mv "$work/bin/promtool" "$work/bin/prometheus" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
