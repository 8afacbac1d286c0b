#!/usr/bin/env bash
# Installs libchdb.so (the embedded ClickHouse engine, chDB) from npm into a
# git-ignored folder; `make chdb` runs it. Idempotent: a stamp file named by
# the package version says it is done, so a second run is instant and a
# version bump reinstalls.
#
#   install-libchdb.sh DEST_DIR PACKAGE@VERSION
set -euo pipefail

dest=${1:?usage: install-libchdb.sh DEST_DIR PACKAGE@VERSION}
pkg=${2:?usage: install-libchdb.sh DEST_DIR PACKAGE@VERSION}
stamp="$dest/.installed-${pkg##*@}"

if [[ -f "$stamp" && -s "$dest/libchdb.so" ]]; then
	echo "== chdb: $dest/libchdb.so is installed ($pkg)"
	exit 0
fi
if ! command -v npm >/dev/null; then
	echo "chdb: npm not found; install Node.js/npm (or download $pkg yourself and set CHDB_LIB_PATH to its libchdb.so)" >&2
	exit 1
fi

mkdir -p "$dest"
tmp=$(cd "$(mktemp -d "$dest/.tmp.XXXXXX")" && pwd)
trap 'rm -rf "$tmp"' EXIT

echo "== chdb: fetching $pkg with npm pack (~178 MB download, ~566 MB unpacked)"
start=$(date +%s)
# A private cache so that what has arrived so far can be shown: npm pack
# itself prints nothing until it is done.
(cd "$tmp" && npm pack --silent --cache "$tmp/cache" "$pkg" >pack.out 2>pack.err) &
pid=$!
if [[ -t 1 ]]; then every=1 eol='\r'; else every=10 eol='\n'; fi
while kill -0 "$pid" 2>/dev/null; do
	sleep "$every"
	mb=$(du -sm "$tmp/cache" 2>/dev/null | cut -f1 || true)
	printf "   … %s of ~178 MB, %ss$eol" "${mb:-0} MB" "$(($(date +%s) - start))"
done
[[ -t 1 ]] && printf '\n'
if ! wait "$pid"; then
	cat "$tmp/pack.err" >&2
	echo "chdb: npm pack $pkg failed (is the npm registry reachable? see above)" >&2
	exit 1
fi
tgz="$tmp/$(tail -n1 "$tmp/pack.out")"
echo "== chdb: downloaded $(du -m "$tgz" | cut -f1) MB in $(($(date +%s) - start))s; unpacking libchdb.so"
tar -xzf "$tgz" -C "$tmp" package/libchdb.so
# Rename into place so an interrupted run never leaves a half-written library.
mv "$tmp/package/libchdb.so" "$dest/libchdb.so.part"
mv "$dest/libchdb.so.part" "$dest/libchdb.so"
rm -f "$dest"/.installed-*
echo "$pkg" >"$stamp"
echo "== chdb: installed $dest/libchdb.so ($(du -m "$dest/libchdb.so" | cut -f1) MB); Perimeter finds it there, or set CHDB_LIB_PATH"
