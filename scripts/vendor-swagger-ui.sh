#!/usr/bin/env bash
# Refreshes assets/docs/swagger-ui from the npm package swagger-ui-dist (VERSION, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-5}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "swagger-ui-dist@$version" --silent >/dev/null && tar xzf swagger-ui-dist-*.tgz)
got="$(node -p "require('$tmp/package/package.json').version")"
dest=assets/docs/swagger-ui
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE \
         oauth2-redirect.html oauth2-redirect.js; do
  cp "$tmp/package/$f" "$dest/$f"
done
echo "swagger-ui-dist $got (npm), unmodified; Apache-2.0 (LICENSE, NOTICE). Refresh: scripts/vendor-swagger-ui.sh" > "$dest/VERSION"
echo "assets/docs/swagger-ui <- swagger-ui-dist $got"
