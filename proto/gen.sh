#!/usr/bin/env bash
# Regenerates the TypeScript code for the ballast.v1 protocol with ts-proto.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/proto/gen"
rm -rf "$out" && mkdir -p "$out"
"$root/node_modules/.bin/protoc" \
  --plugin=protoc-gen-ts_proto="$root/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,useOptionals=messages,forceLong=number,importSuffix=.js,useExactTypes=false,oneof=unions-value \
  -I "$root/proto" "$root"/proto/ballast/v1/*.proto "$root"/proto/keda/*.proto
node "$root/proto/barrel.mjs" "$out"
