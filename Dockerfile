# One image for every Outlet process; docker-compose.yml picks the process with `command`.
FROM node:20-bookworm-slim
WORKDIR /outlet
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY test test
COPY models models
COPY bin bin
RUN npm run build
ENV OUTLET_MODELS_DIR=/outlet/models
CMD ["node", "dist/apps/gateway/src/main.js"]
