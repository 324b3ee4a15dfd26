# One image for the web and worker processes (docker-compose picks the command).
FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATA_DIR=/data MEDIA_DIR=/srv/polyphony/media
EXPOSE 4000
CMD ["node", "main.ts", "web"]
