# syntax=docker/dockerfile:1
# PFA Vanguard data service: API (default command) and worker (node dist/src/worker.js) from one
# image. Stage 1 compiles TypeScript to dist/; stage 2 holds dist/ and the production
# dependencies only, runs as the unprivileged user `node`, and checks /healthz.
#   docker build -t pfa-vanguard .
#   docker compose up            # API + worker + PostgreSQL 15 + Redis (+ a PEMS simulator)

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/app/.data \
    PORT=4000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR: where a process without AUTH_JWT_SECRET (JWKS mode) keeps the secret its cursors are
# keyed with; the unprivileged user must be able to write it.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 4000
# /healthz answers while the process serves HTTP; readiness (database, migrations, Redis) is /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, not npm, is PID 1: `docker stop`'s SIGTERM reaches the service's own graceful drain.
CMD ["node", "dist/src/main.js"]
