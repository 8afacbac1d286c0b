#!/usr/bin/env bash
# Sourced by .ci/run: installs and starts everything the tests need on a
# fresh machine (libchdb, clickhouse-server, ZooKeeper, nginx, Chromium, buildah and
# debootstrap for the image build) and exports the variables that make
# their tests required rather than skipped.

# at_exit CMD: runs CMD when the shell exits, before the EXIT trap already
# set (this file is sourced: its caller's trap is kept, not replaced).
at_exit() {
	local prev
	prev=$(trap -p EXIT) # trap -- 'commands' EXIT
	prev=${prev#"trap -- "}
	prev=${prev%" EXIT"}
	eval "prev=${prev:-''}"
	trap -- "$1${prev:+; $prev}" EXIT
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go version)"
echo "== downloading Go modules"
go mod download

echo "== installing libchdb (embedded ClickHouse) so that its integration tests run for real"
make chdb
export PERIMETER_REQUIRE_CHDB=1

echo "== installing and starting clickhouse-server (native protocol on 127.0.0.1:9000) for the sink/clickhouse integration tests"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y clickhouse-server clickhouse-client
fi
ch_up() { clickhouse-client --host 127.0.0.1 --port 9000 -q "SELECT version()" 2>/dev/null; }
if ver=$(ch_up); then
	echo "   clickhouse-server $ver already running"
else
	ch_dir=$(mktemp -d /tmp/perimeter-ci-clickhouse.XXXXXX)
	# The server writes status and preprocessed files in its working
	# directory, so start it from a writable one.
	ch_cmd=(clickhouse-server --config-file=/etc/clickhouse-server/config.xml)
	[ "$(id -u)" = 0 ] || ch_cmd=(sudo "${ch_cmd[@]}")
	(cd "$ch_dir" && exec "${ch_cmd[@]}" >"$ch_dir/server.out" 2>&1) &
	ch_pid=$!
	at_exit "kill $ch_pid 2>/dev/null || true"
	for i in $(seq 1 60); do
		if ver=$(ch_up); then break; fi
		if ! kill -0 "$ch_pid" 2>/dev/null; then break; fi
		[ $((i % 5)) = 0 ] && echo "   waiting for clickhouse-server on 127.0.0.1:9000 (${i}s)"
		sleep 1
	done
	if ! ver=$(ch_up); then
		echo "!! FATAL: clickhouse-server did not come up on 127.0.0.1:9000; its output and error log:" >&2
		tail -n 40 "$ch_dir/server.out" /var/log/clickhouse-server/clickhouse-server.err.log >&2 || true
		exit 1
	fi
	echo "   clickhouse-server $ver up (pid $ch_pid, work dir $ch_dir)"
fi
# The integration tests fail, instead of skipping, when this server is absent.
export PERIMETER_TEST_CLICKHOUSE=127.0.0.1:9000

echo "== installing ZooKeeper: the cluster tests start their own 2-shard, 2-replica ClickHouse cluster (sink/clickhouse/chtest) and need it for Replicated tables and ON CLUSTER DDL"
if [ ! -f /usr/share/java/zookeeper.jar ]; then
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zookeeper
fi

echo "== installing nginx: the sessions-across-instances test balances real instances with it (cmd/perimeter), as make bench compares with it"
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx
fi
# That test fails, instead of skipping, without nginx.
export PERIMETER_REQUIRE_NGINX=1

echo "== installing Chromium for the dashboard UI's headless browser tests (dashboard/web)"
if [ ! -x /usr/bin/chromium ]; then
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
/usr/bin/chromium --version 2>/dev/null || true
# The browser tests fail, instead of skipping, without /usr/bin/chromium.
export PERIMETER_REQUIRE_CHROMIUM=1

echo "== installing buildah and debootstrap for the container image build (deploy/buildah-image.sh)"
if ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y buildah debootstrap
fi
buildah --version
