# syntax=docker/dockerfile:1
# Build with Node 24, run on distroless Node 24 as a numeric non-root user with production dependencies only.
# These steps cannot be built on the project's CI machines (no Docker engine); test/e2e/package.test.ts runs the
# same commands in a clean copy: npm ci, npm run build, npm ci --omit=dev, node dist/cli.js, kube-job-alerts.
# Released images are built by .github/workflows/release.yml for linux/amd64 and linux/arm64.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
# Written out rather than inherited: `kube-job-alerts` (below) must be found by `kubectl exec`.
ENV PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY --chmod=0755 docker/kube-job-alerts /usr/local/bin/kube-job-alerts
USER 65532:65532
EXPOSE 8080
# The daemon is PID 1 and handles SIGTERM itself (drains, exits 0 within 10 s).
# The entrypoint is the CLI (its default command is `run`); the same CLI is `kube-job-alerts` on PATH, so
# `kubectl exec deploy/kube-job-alerts -- kube-job-alerts check` checks the pod's own permissions.
# --max-semi-space-size=8: V8 grows its young generation to 2 x 64 MB under the load of a sync and keeps it; capped at
# 2 x 8 MB the daemon uses a third less memory at 10,000 Jobs and more (BENCHMARKS.md) for a few percent more CPU.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "dist/cli.js"]
