# One image for the web and worker processes (docker-compose picks the command), and an nginx image
# (target `nginx`) holding the built web UI, so both always come from the same sources.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts stay off here (the web UI's postinstall build needs the sources, copied below).
RUN npm ci --omit=dev --ignore-scripts
COPY . .
# Vite is a runtime dependency, so the web UI builds without the dev packages: web/dist.
RUN npm run build:web

FROM nginx:1.27 AS nginx
COPY config/nginx/polyphony.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/web/dist /srv/polyphony/web

FROM node:24-bookworm-slim AS app
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATA_DIR=/data MEDIA_DIR=/srv/polyphony/media
EXPOSE 4000
CMD ["node", "main.ts", "web"]
