#!/usr/bin/env bash
# Builds the Dockerfile with buildah on a machine that has no image
# registry and no Docker daemon, then runs the image and checks it. CI runs
# it (.ci/run) beside make test.
#
# The Dockerfile's base images (golang, node, debian slim) cannot be pulled
# here, so local stand-ins with the same names are made from a Debian
# rootfs built by debootstrap: debian:<release>-slim is the rootfs itself,
# golang:<go>-<release> adds this machine's Go toolchain and CA bundle,
# node:22-<release>-slim (only with CHDB_STAGE=1) adds Debian's nodejs and
# npm. The Dockerfile itself is built unchanged, with these shortcuts:
#   - overlay storage (the kernel's overlayfs) in a private store, so a
#     layer is not a full copy of the filesystem (vfs);
#   - the build stage's go mod download and go build read and fill this
#     machine's module and build caches (bind mounts, as a BuildKit cache
#     mount would);
#   - the chdb stage's output, libchdb.so, is this machine's (make chdb:
#     the same installer at the same version) given as a build context
#     named chdb, so the 178 MB npm download and the node stand-in are
#     skipped. CHDB_STAGE=1 builds that stage as a Docker build would.
#
#   deploy/buildah-image.sh            (as root; needs buildah and debootstrap)
#
# Environment: WORK (store, rootfs and contexts, kept between runs; default
# /var/tmp/perimeter-image), IMAGE (tag, default localhost/perimeter:test),
# STORAGE_DRIVER (overlay, or vfs where overlayfs cannot be mounted),
# CHDB_STAGE=1, CHDB_LIB_PATH (the libchdb.so to put in the image; default
# third_party/chdb/libchdb.so).
set -euo pipefail
cd "$(dirname "$0")/.."

release=bookworm
go_version=$(sed -n 's/^ARG GO_VERSION=//p' Dockerfile)
work=${WORK:-/var/tmp/perimeter-image}
rootfs=$work/rootfs-$release
image=${IMAGE:-localhost/perimeter:test}
driver=${STORAGE_DRIVER:-overlay}
export BUILDAH_ISOLATION=chroot
b() { buildah --storage-driver "$driver" --root "$work/storage" --runroot "$work/run" "$@"; }

t0=$(date +%s)
step_start=$t0
timings=()
# step NAME: ends the previous step's timer and starts NAME's.
step() {
	local now
	now=$(date +%s)
	[[ -n ${step_name:-} ]] && timings+=("$(printf '%4ss %s' $((now - step_start)) "$step_name")")
	step_name=$1 step_start=$now
	[[ -z $1 ]] || echo "== $1"
}
# The traps write to the script's own output (fds 3 and 4), not to the
# log of the step they interrupt.
exec 3>&1 4>&2
report() {
	step ""
	echo "== timings (total $(($(date +%s) - t0))s):"
	printf '   %s\n' "${timings[@]}"
} >&3
trap 'report' EXIT
trap 'echo "FAIL: stopped (timeout or interrupt) during: ${step_name:-start}" >&4; exit 143' TERM INT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?) during: ${step_name:-start}" >&4' ERR

for tool in buildah debootstrap; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool not found: apt-get install buildah debootstrap" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "FAIL: run as root (debootstrap and buildah's chroot isolation need it)" >&2; exit 1; }
mkdir -p "$work"

if [[ ! -x "$rootfs/bin/sh" ]]; then
	step "debootstrap $release (minbase) into $rootfs"
	# An interrupted second stage may have left /proc or /sys mounted.
	findmnt -rn -o TARGET | { grep -F "$rootfs.part/" || true; } | sort -r | xargs -r -n1 umount -l
	rm -rf "$rootfs.part"
	# In two stages, so that dpkg in the second need not fsync every file
	# of a rootfs that is thrown away if the run is interrupted (half the
	# time of that stage); the setting is removed before any image is made.
	{ debootstrap --foreign --variant=minbase "$release" "$rootfs.part" http://deb.debian.org/debian &&
		echo force-unsafe-io >"$rootfs.part/etc/dpkg/dpkg.cfg.d/perimeter-build-unsafe-io" &&
		chroot "$rootfs.part" /debootstrap/debootstrap --second-stage &&
		rm "$rootfs.part/etc/dpkg/dpkg.cfg.d/perimeter-build-unsafe-io"; } >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$work/debootstrap.log" >&2; echo "FAIL: debootstrap $release (is deb.debian.org reachable?)" >&2; exit 1; }
	rm -rf "$rootfs.part/var/cache/apt/archives/"*.deb "$rootfs.part/var/lib/apt/lists/"*
	mv "$rootfs.part" "$rootfs"
fi

# stand_in NAME KEY FROM FILL SETUP [ENV...]: a local image NAME made from
# FROM (scratch or an image), FILL run on the host with the container's
# root folder as $1, then SETUP (if any) run in the container, with ENV
# (KEY=VALUE) in its configuration. It is made again when KEY (what it was
# made from, e.g. the Go version) differs from the one it was made with.
stand_in() {
	local name=$1 key=$2 from=$3 fill=$4 setup=$5 c mnt e
	shift 5
	if [[ $(b inspect --type image --format '{{index .OCIv1.Config.Labels "perimeter.stand-in"}}' "$name" 2>/dev/null) == "$key" ]]; then
		return
	fi
	step "stand-in base image $name ($key)"
	c=$(b from --pull=never "$from")
	mnt=$(b mount "$c")
	"$fill" "$mnt"
	b umount "$c" >/dev/null
	for e in "$@"; do b config --env "$e" "$c"; done
	b config --label "perimeter.stand-in=$key" "$c"
	if [[ -n $setup ]]; then
		b run "$c" -- sh -c "$setup"
	fi
	b commit --rm --quiet "$c" "$name" >/dev/null
}
fill_debian() { cp -a "$rootfs/." "$1/"; }
# The build stages may download (modules, npm) over TLS: they trust what
# this machine trusts (its CA bundle, with e.g. an egress proxy's CA), as
# its own clients do.
fill_certs() {
	mkdir -p "$1/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
}
fill_golang() {
	fill_certs "$1"
	cp -a "$(go env GOROOT)" "$1/usr/local/go"
	mkdir -p "$1/go"
}
fill_node() {
	mkdir -p "$1/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" 2>/dev/null || true
}

deb_key="debootstrap $release minbase at $(stat -c %Y "$rootfs")"
stand_in "localhost/debian:$release-slim" "$deb_key" scratch fill_debian ""
stand_in "localhost/golang:$go_version-$release" "$(go version), $deb_key" "localhost/debian:$release-slim" fill_golang "" \
	PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOPATH=/go

build_args=()
if [[ ${CHDB_STAGE:-} == 1 ]]; then
	stand_in "localhost/node:22-$release-slim" "nodejs npm, $deb_key" "localhost/debian:$release-slim" fill_node \
		"apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates nodejs npm >/dev/null && rm -rf /var/lib/apt/lists/*" \
		NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
else
	# The chdb stage's /out/libchdb.so, from this machine's make chdb.
	lib=${CHDB_LIB_PATH:-third_party/chdb/libchdb.so}
	[[ -s $lib ]] || { echo "FAIL: $lib not found: run make chdb first (or CHDB_STAGE=1 to build that stage)" >&2; exit 1; }
	rm -rf "$work/chdb-context" && mkdir -p "$work/chdb-context/out"
	ln "$(realpath "$lib")" "$work/chdb-context/out/libchdb.so" 2>/dev/null || cp "$(realpath "$lib")" "$work/chdb-context/out/libchdb.so"
	build_args+=(--build-context "chdb=$work/chdb-context")
fi

step "buildah build -t $image (the Dockerfile, unchanged)"
mkdir -p "$(go env GOMODCACHE)" "$(go env GOCACHE)"
b build --pull=never --isolation chroot --format docker --jobs 2 -t "$image" "${build_args[@]}" \
	--volume "$(go env GOMODCACHE):/go/pkg/mod" \
	--volume "$(go env GOCACHE):/root/.cache/go-build" \
	--build-arg VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)" .

step "checks"
c=$(b from --pull=never "$image")
trap 'b rm "$c" >/dev/null 2>&1 || true; report' EXIT
meta=$(b inspect --type image "$image")
grep -q '"User": "10001:10001"' <<<"$meta" || { echo "FAIL: the image does not run as 10001" >&2; exit 1; }
grep -q '"perimeter",' <<<"$(grep -A8 '"Healthcheck"' <<<"$meta")" || { echo "FAIL: no HEALTHCHECK running perimeter healthcheck" >&2; exit 1; }
echo "user 10001 and HEALTHCHECK in the image config"
# As the image's user, with its environment: the binary runs, finds
# libchdb, the embedded engine starts, /health answers and the health
# check passes.
b run --user 10001:10001 --env LLM_BASE_URL=http://127.0.0.1:9 --env LLM_TYPE=openai "$c" -- sh -euc '
	id -u | grep -qx 10001
	perimeter version
	test -s "$CHDB_LIB_PATH"
	cd /var/lib/perimeter
	perimeter run --config /etc/perimeter/perimeter.yaml --no-dashboard >/tmp/perimeter.log 2>&1 &
	pid=$!
	for i in $(seq 1 120); do perimeter healthcheck --timeout 1s 2>/dev/null && break; sleep 1; done
	perimeter healthcheck || { cat /tmp/perimeter.log; exit 1; }
	grep -q "embedded ClickHouse (chDB) ready" /tmp/perimeter.log || { cat /tmp/perimeter.log; exit 1; }
	kill $pid; wait $pid || true
	echo "image OK: runs as $(id -u), libchdb at $CHDB_LIB_PATH, embedded store ready, healthcheck passes"
'
