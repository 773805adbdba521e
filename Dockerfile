# The image of the workers and the CLI (README, "Docker"):
#   docker build -t analytics-workers .
#   docker run --rm analytics-workers --help
# Build stage: all dependencies, the Prisma client and dist/ (scripts/build.mjs, tsc).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/build.mjs scripts/prisma-generate.sh ./scripts/
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, the compiled output and the migrations; no sources,
# no tsx. Runs as the unprivileged `node` user; exports and reports go to /data.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    EXPORT_DIR=/data/exports \
    REPORT_DIR=/data/reports
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && mkdir -p /data/exports /data/reports \
    && chown -R 1000:1000 /data
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY prisma/migrations ./prisma/migrations
# The image's `node` user, by number so that Kubernetes runAsNonRoot can check it.
USER 1000:1000
ENTRYPOINT ["node", "bin/analytics.js"]
CMD ["workers"]
