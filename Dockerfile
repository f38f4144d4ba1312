# syntax=docker/dockerfile:1
#
# payguard as operators run it: a sidecar in front of the storefront (see docs/deploy.md).
#
#   docker build -t payguard:0.1.0 .
#   docker run --read-only --tmpfs /tmp -v payguard-state:/var/lib/payguard \
#     -v "$PWD/release:/etc/payguard:ro" -p 127.0.0.1:8080:8080 payguard:0.1.0 serve \
#     --upstream http://storefront:8081 --policy /etc/payguard/policy.yaml \
#     --public-key /etc/payguard/payguard.pub --admin 0.0.0.0:9464
#
# No key is ever copied into the image: the signed policy and the public key are mounted
# read-only at run time, and the private key never leaves the release engineer's machine.

# Node 24 is the Active LTS line; the builder uses the same image so native ABI and npm match.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full dependencies, TypeScript compiled to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles the sources, which are not copied yet (kept apart so the
# dependency layer is cached across source edits).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# Only src/ is copied: bench/ is not part of the runtime, and tsconfig's bench glob then matches nothing.
RUN npm run build

# ---- deps: production dependencies only (no TypeScript, vitest, playwright-core, ...) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1, from Debian rather than `docker run --init`: Kubernetes has no --init, so the image
# must be correct on its own. payguard handles SIGTERM (drain) and SIGHUP (reload) itself, but a
# process running as PID 1 gets no default signal actions from the kernel (SIGINT/SIGQUIT would be
# ignored) and must reap orphaned children; tini forwards every signal to payguard and reaps.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid (10001, outside the range distributions give to people) so Kubernetes'
# runAsNonRoot can verify it and volume ownership is predictable across images.
RUN groupadd --system --gid 10001 payguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin payguard \
 && mkdir -p /var/lib/payguard /etc/payguard \
 && chown 10001:10001 /var/lib/payguard /etc/payguard
# /var/lib/payguard: the only place payguard writes (the accepted policy serial, the rollback floor).
# /etc/payguard: where the signed policy and public key are mounted read-only. Both are created
# owned by 10001 because Docker gives a new named volume the ownership of its mount point.

WORKDIR /app
ENV NODE_ENV=production \
    PAYGUARD_STATE_DIR=/var/lib/payguard
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
COPY bin ./bin
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs

USER 10001:10001
VOLUME ["/var/lib/payguard"]
# 8080: the public port (the shop's traffic). 9464: the admin port (/metrics, /healthz, /readyz),
# for Prometheus and the orchestrator only: never publish it to the internet.
EXPOSE 8080 9464

# node itself probes /healthz (slim images have no curl or wget); it reads PAYGUARD_ADMIN to find
# the admin port.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/payguard.js"]
CMD ["serve"]
