#!/usr/bin/env bash
# Runs a three-node Switchboard cluster on this machine, on loopback:
# etcd (Debian's etcd-server, installed when missing) and three nodes,
# each under a loop that starts it again when it exits (a node exits when
# it loses the actors' ownership: that is its supervisor's job).
#
#   cmd/switchboard/scripts/cluster3.sh            # foreground; Ctrl-C stops all
#   CLUSTER_DIR=/tmp/sb3 cmd/switchboard/scripts/cluster3.sh
#
# Nodes: http://127.0.0.1:8081, :8082, :8083 (any of them serves any
# client); cluster ports 7001-7003; etcd on 127.0.0.1:2379. The demo
# directory is created on first start (agents ana, ben, cleo; password
# "demo-password"; see the README).
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=${CLUSTER_DIR:-$(mktemp -d /tmp/switchboard-cluster.XXXX)}
mkdir -p "$dir"
if ! command -v etcd >/dev/null; then
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y etcd-server
fi
go build -o "$dir/switchboard" ./cmd/switchboard
pids=()
cleanup() {
	trap - INT TERM EXIT
	kill "${pids[@]}" 2>/dev/null || true
	pkill -P $$ 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

etcd --name sb-etcd --data-dir "$dir/etcd" \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster sb-etcd=http://127.0.0.1:2380 >"$dir/etcd.log" 2>&1 &
pids+=($!)

key_file="$dir/cluster-key"
[ -s "$key_file" ] || head -c 24 /dev/urandom | base64 >"$key_file"
export SWITCHBOARD_CLUSTER_KEY=${SWITCHBOARD_CLUSTER_KEY:-$(cat "$key_file")}
token_file="$dir/admin-token"
[ -s "$token_file" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file"
export SWITCHBOARD_ADMIN_TOKEN=${SWITCHBOARD_ADMIN_TOKEN:-$(cat "$token_file")}
peers=n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003
for i in 1 2 3; do
	(
		while true; do
			# The nodes forward their clients to each other: they trust
			# each other's X-Forwarded-For (on loopback here).
			if "$dir/switchboard" -addr "127.0.0.1:808$i" -data "$dir/n$i" -demo \
				-trusted-proxies 127.0.0.1/32 \
				-cluster-etcd http://127.0.0.1:2379 -cluster-name "n$i" \
				-cluster-bind "127.0.0.1:700$i" -cluster-peers "$peers" >>"$dir/n$i.log" 2>&1; then
				echo "node n$i left the cluster (exit 0); not started again" >>"$dir/n$i.log"
				break
			fi
			echo "node n$i exited; starting it again" >>"$dir/n$i.log"
			sleep 1
		done
	) &
	pids+=($!)
done
cat <<INFO
Cluster folder: $dir (logs n1.log n2.log n3.log etcd.log)
Nodes:          http://127.0.0.1:8081  http://127.0.0.1:8082  http://127.0.0.1:8083
Admin token:    $SWITCHBOARD_ADMIN_TOKEN
Status:         SWITCHBOARD_CLUSTER_KEY=\$(cat $key_file) $dir/switchboard cluster -addr 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083
Kill a node:    pkill -9 -f 'cluster-name n1'   (its loop starts it again)
Ctrl-C stops everything.
INFO
wait
