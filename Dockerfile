# One image for the API and the worker; docker-compose.yml picks the entry point.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY worker ./worker
COPY scripts ./scripts
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
