# One image for the API, the worker, the codec server and the setup step; docker-compose.yml picks the command.

# Build: bundle the workflow code ahead of time, so a worker starts without webpack.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY domain ./domain
COPY platform ./platform
COPY codec ./codec
COPY workflows ./workflows
COPY activities ./activities
COPY stores ./stores
COPY worker ./worker
COPY scripts/ops ./scripts/ops
RUN npx tsx scripts/ops/build-workflow-bundle.ts dist/workflow-bundle.js

# Run: production dependencies, the sources (run by tsx) and the prebuilt bundle.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
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
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
ENV WORKER_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
