# One image for the API, the worker, the codec server and the setup step; docker-compose.yml picks the command.

# Build: `npm run build` compiles every entry point to dist/ and bundles the workflow code ahead of
# time, so that a worker starts without webpack; dist/build.json names the build (its worker's
# Deployment Version, docs/decisions/0011-worker-versioning.md).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY domain ./domain
COPY platform ./platform
COPY codec ./codec
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY stores ./stores
COPY worker ./worker
COPY scripts/ops ./scripts/ops
COPY scripts/build ./scripts/build
RUN npm run build

# Run: production dependencies and the compiled build; no sources, no TypeScript loader.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Stack traces in the logs name the sources' files and lines.
ENV NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/api.js"]
