# syntax=docker/dockerfile:1
# The service is compiled to JavaScript (dist/) and the chat box built in a build stage, so the final image
# needs only the production dependencies and those two builds: no compiler, no build tools.

# The service (src/ → dist/) and the chat box (web/), built with the development dependencies.
FROM node:24-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts ./scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN node scripts/build-server.mjs --force && node scripts/build-web.mjs --force

# The production dependencies only.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=web /app/web/dist ./web/dist
COPY --from=web /app/dist ./dist
COPY package.json orchestration_config.json ./
# The SQLite database lives in /data: mount a volume there to keep sessions, runs and the cost ledger
# (or set DATABASE_URL to PostgreSQL).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node receives SIGTERM directly (no npm in between) and shuts down gracefully.
# A queue worker runs the same image with: node --max-semi-space-size=16 dist/src/worker.js
CMD ["node", "--max-semi-space-size=16", "dist/src/main.js"]
