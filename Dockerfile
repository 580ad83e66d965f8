# syntax=docker/dockerfile:1
# Multi-stage image for the API and every consumer module. One image, many entry points:
#   docker run IMAGE                                  -> the GraphQL API (dist/api.js)
#   docker run IMAGE node dist/consumers/<name>.js    -> one consumer module
# See docker-compose.yml for a full stack.

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies plus the compiled output, as a non-root user ----
FROM node:20-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
# Files stay owned by root: the app can read but not modify its own code.
COPY --from=build /app/dist ./dist
# Static files the API serves as they are (tsc compiles only src/): the operations dashboard's page.
COPY public ./public
USER node
EXPOSE 4000
CMD ["node", "dist/api.js"]
