# exec-stream's container image (README "Deploy on Kubernetes"). Two stages:
#   build    installs every dependency, compiles src/ to dist/ (scripts/build.sh), then drops the dev
#            dependencies (npm prune --omit=dev);
#   runtime  the base image plus production node_modules, dist/, proto/, the built client package (the
#            service loads the wire types' runtime helpers from it) and the health check script:
#            no sources, no dev dependencies, no npm cache.
# Build arguments:
#   NODE_IMAGE  the Node 24 base of both stages (default: the official image): Debian-based (glibc; the
#               runtime stage installs jemalloc with apt where the base lacks it).
#   PREBUILT    "true" takes node_modules (production only) and dist/ already built from the context's
#               prebuilt/ folder instead of running npm ci and tsc here: scripts/image-build.sh uses it
#               where no registry is reachable. Everything else is the same instructions.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
LABEL exec-stream.stage=build
ARG PREBUILT=false
WORKDIR /app
COPY package.json package-lock.json ./
# The client package is a workspace of the root (packages/client): npm ci links it.
COPY packages/client/package.json packages/client/
# --ignore-scripts: the only install scripts fetch the dev `node` binary (the base image has its Node)
# and build optional native helpers that dockerode does not need.
RUN [ "$PREBUILT" = true ] || npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# One command per line, no `a && b`: set -e does not stop at a failing `a` of such a list.
RUN set -e; \
    if [ "$PREBUILT" = true ]; then \
      rm -rf node_modules dist; \
      mv prebuilt/node_modules prebuilt/dist . ; \
      cp -r prebuilt/packages/client/dist prebuilt/packages/client/proto packages/client/; \
    else \
      bash scripts/build.sh; \
      npm prune --omit=dev --ignore-scripts --no-audit --no-fund; \
    fi; \
    mkdir -p /out/scripts /out/data /out/packages/client; \
    mv node_modules dist proto package.json /out/; \
    mv packages/client/package.json packages/client/dist packages/client/proto /out/packages/client/; \
    cp scripts/healthcheck.js /out/scripts/
# Names this build's stage image, so that scripts/image-build.sh removes its own leftovers and no other
# build's on a shared engine (last: a new id changes no cached layer above).
ARG BUILD_ID=
LABEL exec-stream.build=${BUILD_ID}

FROM ${NODE_IMAGE} AS runtime
# The service's allocator, as scripts/serve.sh runs it (which says why): Debian's jemalloc, preloaded, at
# one path whatever the architecture. The official base installs it; the base scripts/image-build.sh
# makes already holds it.
# `-e LD_PRELOAD=` runs a container on glibc's malloc instead.
RUN set -e; \
    if ! ls /usr/lib/*/libjemalloc.so.2 >/dev/null 2>&1; then \
      apt-get update; \
      apt-get install -y --no-install-recommends libjemalloc2; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    lib=$( (dpkg -L libjemalloc2 2>/dev/null || ls /usr/lib/*/libjemalloc.so.2) | grep -m 1 '/libjemalloc\.so\.2$'); \
    mkdir -p /usr/local/lib; \
    ln -sf "$lib" /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production \
    EXEC_LISTEN=0.0.0.0:50051 \
    EXEC_DATA_DIR=/var/lib/exec-stream \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true
WORKDIR /app
COPY --from=build /out/package.json ./
COPY --from=build /out/proto ./proto
COPY --from=build /out/scripts ./scripts
COPY --from=build /out/packages ./packages
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /out/dist ./dist
# The data directory belongs to the service's user; a volume keeps sessions across container restarts.
COPY --from=build --chown=node:node /out/data /var/lib/exec-stream
VOLUME ["/var/lib/exec-stream"]
# uid 1000 (`node`), not root. The Docker socket (root:docker, 0660) is then reached through its group:
# `docker run --group-add <socket's gid>` (Kubernetes: supplementalGroups).
USER node
EXPOSE 50051
# EXEC_LISTEN above is not loopback, so the service refuses to start without EXEC_AUTH_TOKEN (≥ 16
# characters); health checks need no token.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.js"]
# The same Node flags as scripts/serve.sh. Node is PID 1: with no init in between, SIGTERM reaches it
# directly and the service's own handler drains (docs/DURABILITY.md); it starts no child processes, so
# nothing needs reaping.
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
