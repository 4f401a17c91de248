# Build with Node 24, run on distroless Node 24 as a numeric non-root user with production dependencies only.
# These steps cannot be built on the project's CI machines (no Docker engine); test/e2e/package.test.ts runs the
# same commands in a clean copy: npm ci, npm run build, npm ci --omit=dev, node dist/cli.js.
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
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8080
# The daemon is PID 1 and handles SIGTERM itself (drains, exits 0 within 10 s).
# The entrypoint is the CLI (its default command is `run`), so `kubectl exec ... -- /nodejs/bin/node dist/cli.js check` works.
ENTRYPOINT ["/nodejs/bin/node", "dist/cli.js"]
