#!/usr/bin/env bash
# Builds the service's image from the repository's Dockerfile where no registry is reachable, and
# prints its tag (the last line on stdout). Real world: `docker build -t exec-stream .` instead.
#   scripts/image-build.sh [--force]
# What differs from a plain `docker build .` (two build arguments, same Dockerfile):
#   NODE_IMAGE=exec-stream/node-base:<version>-jemalloc  made here by `docker import` of a tar holding
#     the Node 24 binary of node_modules/.bin/node (readlink -f), the shared libraries `ldd` lists and
#     the loader, Debian's libjemalloc.so.2 (the official base gets it from apt in the Dockerfile),
#     busybox as /bin/sh (the Dockerfile's RUN lines), /etc/passwd and /etc/group with root and node
#     (1000), /home/node and /tmp; kept cached, made again only when missing.
#   PREBUILT=true  the build stage takes prebuilt/node_modules (the production packages of this
#     checkout's node_modules: `npm ls --omit=dev`) and prebuilt/dist (scripts/build.sh) from the
#     context instead of npm ci + tsc + npm prune, which would need the registry. The context is a
#     temporary folder with the checkout's files (git ls-files: tracked and new, not ignored) + prebuilt/.
# The image is tagged exec-stream:tree-<hash of the files it is built from and the base image id>;
# when that tag exists nothing is built. It removes only what this build made: its build stage's image
# (labelled with this build's id) and, with --force, the image the tag named before if nothing else
# uses it; never other tree-* tags (other checkouts build on the same engine).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[image-build] $*" >&2; }
force=false
[ "${1:-}" = --force ] && force=true
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0 # the engine's legacy builder

node_bin=$(readlink -f node_modules/.bin/node)
node_version=$("$node_bin" -p 'process.versions.node')
base="exec-stream/node-base:$node_version-jemalloc"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  say "making $base from $node_bin"
  [ -x /bin/busybox ] || { say "/bin/busybox missing (scripts/docker-up.sh installs busybox-static)"; exit 1; }
  root=$(mktemp -d /tmp/exec-stream-node-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/usr/local/bin" "$root/bin" "$root/etc" "$root/tmp" "$root/home/node" "$root/proc" "$root/sys" "$root/dev"
  cp "$node_bin" "$root/usr/local/bin/node"
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  # jemalloc (the service's allocator: the Dockerfile preloads it) and what it links, as an official
  # Debian base gets it from apt.
  jemalloc=$({ dpkg -L libjemalloc2 2>/dev/null || true; } | grep -m 1 '/libjemalloc\.so\.2$' || true)
  [ -n "$jemalloc" ] || { say "libjemalloc.so.2 missing (scripts/setup.sh installs libjemalloc2)"; exit 1; }
  for lib in "$jemalloc" $(ldd "$jemalloc" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown 1000:1000 "$root/home/node"
  tar --numeric-owner -C "$root" -cf - . |
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

# The files the image is made from (the build stage's inputs), and the base image.
inputs=(Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json scripts/build.sh scripts/build-client.sh scripts/healthcheck.js)
mapfile -t tree < <(git ls-files -co --exclude-standard -- src bench test/support proto packages | grep -v '\.spec\.ts$' | sort)
present=()
for f in "${inputs[@]}" "${tree[@]}"; do [ -f "$f" ] && present+=("$f"); done
# One sha256sum for all of them (the same lines, in the same order, as one per file: ~300 processes fewer).
hash=$( (
  docker image inspect --format '{{.Id}}' "$base"
  sha256sum -- "${present[@]}"
) | sha256sum | cut -c1-16)
tag="exec-stream:tree-$hash"
if ! $force && docker image inspect "$tag" >/dev/null 2>&1; then
  say "$tag exists (the tree is unchanged)"
  echo "$tag"
  exit 0
fi

started=$(date +%s)
build_id="$started-$$-$RANDOM"
previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
ctx=$(mktemp -d /tmp/exec-stream-image-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
say "building dist/ (scripts/build.sh)"
bash scripts/build.sh
git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -C "$ctx" -xf -
cp Dockerfile .dockerignore "$ctx/" # when not yet tracked by git, still part of the build
mkdir -p "$ctx/prebuilt"
tar --exclude=.tsbuildinfo -cf - dist packages/client/dist packages/client/proto | tar -C "$ctx/prebuilt" -xf -
# The production packages: each folder npm lists without dev dependencies, minus those inside another.
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s#^$PWD/##p" | grep '^node_modules/' | sort -u |
  awk '{ for (i = 1; i <= n; i++) if (index($0, kept[i] "/") == 1) next; kept[++n] = $0; print }' |
  tar -T - -cf - | tar -C "$ctx/prebuilt" -xf -
say "docker build (NODE_IMAGE=$base PREBUILT=true) -> $tag"
docker build --quiet --force-rm --build-arg "NODE_IMAGE=$base" --build-arg PREBUILT=true --build-arg "BUILD_ID=$build_id" \
  --label "exec-stream.tree=$hash" -t "$tag" "$ctx" >&2
docker image prune --force --filter "label=exec-stream.build=$build_id" >/dev/null
# --force rebuilt an existing tag: its former image is untagged now; removed unless a container or
# another tag holds it (then rmi refuses, and it stays).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
say "built $tag in $(($(date +%s) - started)) s, $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.1f MiB", $1 / 1048576 }')"
echo "$tag"
