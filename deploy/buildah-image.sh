#!/usr/bin/env bash
# Builds the Dockerfile with buildah on a machine that has no image
# registry and no Docker daemon, then runs the image and checks it.
#
# The Dockerfile's base images (golang, node, debian slim) cannot be pulled
# here, so local stand-ins with the same names are made from a Debian
# rootfs built by debootstrap: debian:<release>-slim is the rootfs itself,
# golang:<go>-<release> adds this machine's Go toolchain, node:22-<release>-slim
# adds Debian's nodejs and npm. The Dockerfile itself is built unchanged.
#
#   deploy/buildah-image.sh            (as root; needs buildah and debootstrap)
#
# Environment: ROOTFS (debootstrap folder, kept between runs),
# IMAGE (tag, default localhost/perimeter:test).
set -euo pipefail
cd "$(dirname "$0")/.."

release=bookworm
go_version=$(sed -n 's/^ARG GO_VERSION=//p' Dockerfile)
rootfs=${ROOTFS:-/var/tmp/perimeter-debootstrap-$release}
image=${IMAGE:-localhost/perimeter:test}
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
b() { buildah --storage-driver vfs "$@"; }

for tool in buildah debootstrap; do
	command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install buildah debootstrap" >&2; exit 1; }
done

if [[ ! -x "$rootfs/bin/sh" ]]; then
	echo "== debootstrap $release into $rootfs"
	debootstrap --variant=minbase "$release" "$rootfs" http://deb.debian.org/debian
fi

# stand_in NAME SETUP: a local image NAME from the rootfs, SETUP run in it.
stand_in() {
	local name=$1 setup=$2
	if b inspect --type image "$name" >/dev/null 2>&1; then
		return
	fi
	echo "== stand-in base image $name"
	local c mnt
	c=$(b from scratch)
	mnt=$(b mount "$c")
	cp -a "$rootfs/." "$mnt/"
	rm -rf "$mnt/var/cache/apt/archives/"*.deb
	if [[ $name != localhost/debian:* ]]; then
		# The build stages download (npm, modules) over TLS: they trust
		# what this machine trusts (its local CA certificates, e.g. an
		# egress proxy's), as its own clients do.
		mkdir -p "$mnt/usr/local/share/ca-certificates"
		cp /usr/local/share/ca-certificates/*.crt "$mnt/usr/local/share/ca-certificates/" 2>/dev/null || true
		b config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$c"
	fi
	if [[ $name == localhost/golang:* ]]; then
		cp -a "$(go env GOROOT)" "$mnt/usr/local/go"
		b config --env PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env GOPATH=/go "$c"
	fi
	b umount "$c"
	if [[ -n $setup ]]; then
		b run "$c" -- sh -c "$setup"
	fi
	b commit --rm "$c" "$name" >/dev/null
}

stand_in "localhost/debian:$release-slim" ""
stand_in "localhost/golang:$go_version-$release" "apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates git >/dev/null"
stand_in "localhost/node:22-$release-slim" "apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates nodejs npm >/dev/null"

echo "== buildah build -t $image (the Dockerfile, unchanged)"
# The host's module cache serves the build's go mod download.
b build --pull=never --isolation chroot --format docker -t "$image" \
	--volume "$(go env GOMODCACHE):/go/pkg/mod" \
	--build-arg VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)" .

echo "== checks"
c=$(b from "$image")
trap 'b rm "$c" >/dev/null 2>&1 || true' EXIT
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
	perimeter healthcheck
	grep -q "embedded ClickHouse (chDB) ready" /tmp/perimeter.log || { cat /tmp/perimeter.log; exit 1; }
	kill $pid; wait $pid || true
	echo "image OK: runs as $(id -u), libchdb at $CHDB_LIB_PATH, embedded store ready, healthcheck passes"
'
