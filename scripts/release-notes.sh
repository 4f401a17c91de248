#!/usr/bin/env bash
# Prints CHANGELOG.md's section for VERSION (between its "## [VERSION]" heading and the next "## ["), without the
# heading: the GitHub release's notes. Exits 1 when there is no such section, or it is empty, so a release without
# notes fails before anything is published.
#   scripts/release-notes.sh 0.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/release-notes.sh VERSION}"
notes="$(awk -v heading="## [$version]" '
  index($0, "## [") == 1 { inside = (index($0, heading) == 1); next }
  inside { print }
' CHANGELOG.md | sed -e '/./,$!d')"
if [ -z "${notes//[[:space:]]/}" ]; then
  echo "release-notes: CHANGELOG.md has no section \"## [$version]\" (or it is empty)" >&2
  exit 1
fi
printf '%s\n' "$notes"
