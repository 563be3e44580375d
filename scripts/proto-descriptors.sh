#!/usr/bin/env bash
# Writes the FileDescriptorSet that server reflection serves (default proto/descriptor-set.binpb):
# proto/exec.proto and grpc-health-check's health.proto, compiled by buf (devDependency @bufbuild/buf),
# with source info so that reflection clients can show the comments. Run it after editing a .proto;
# test/reflection.e2e-spec.ts fails while the committed file differs from what this script builds.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-proto/descriptor-set.binpb}"
buf=node_modules/.bin/buf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$buf" build proto --as-file-descriptor-set -o "$tmp/exec.binpb"
"$buf" build node_modules/grpc-health-check/proto --as-file-descriptor-set -o "$tmp/health.binpb"
# A FileDescriptorSet is one repeated field, so two sets laid end to end are one set holding both.
cat "$tmp/exec.binpb" "$tmp/health.binpb" >"$out"
