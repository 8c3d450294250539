#!/usr/bin/env bash
# Regenerates the Go code for every .proto file in this folder.
# Run through `go generate ./...`. Installs protoc from Debian's packages
# when it is missing; protoc-gen-go is the version pinned in go.mod (tool).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v protoc >/dev/null 2>&1; then
  echo "gen.sh: installing protoc (Debian package protobuf-compiler)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
actor_dir="$(go list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)/actor"
protoc --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  -I . -I "$actor_dir" \
  --go_out=. --go_opt=paths=source_relative \
  --go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor \
  wire.proto store.proto actors.proto cluster.proto
