# Learnbot: `docker build -t learnbot .`
#   docker run -p 3000:3000 --env-file .env -v learnbot-data:/app/data learnbot
# Installs exactly requirements.lock (hash-checked), the same versions `make test` runs.
# The base image is pinned by digest, so a rebuild gets the same Python and Debian; to move
# to a patched base, look the digest up (`docker buildx imagetools inspect python:3.11-slim`)
# and replace it in both FROM lines.

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7 AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lockfile changes.
COPY requirements.lock ./
RUN python -m venv /opt/learnbot \
    && /opt/learnbot/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY storage ./storage
COPY learnbot ./learnbot
# Translation catalogues (.mo) are compiled from the committed .po files, with the locked babel.
RUN if [ -d bot/locale ]; then /opt/learnbot/bin/pybabel compile --statistics -d bot/locale -D messages; fi \
    && /opt/learnbot/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
RUN groupadd --gid 10001 learnbot \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin learnbot
# Only the finished virtual environment crosses over: no wheels, caches or sources.
COPY --from=build /opt/learnbot /opt/learnbot
WORKDIR /app
COPY app.yaml ./app.yaml
RUN mkdir -p /app/data && chown 10001:10001 /app/data
# SQLite's database (and its WAL files) live here: mount a volume to keep them.
VOLUME ["/app/data"]
USER 10001:10001
ENV PATH=/opt/learnbot/bin:$PATH \
    PORT=3000 \
    LEARNBOT_CONFIG=/app/app.yaml \
    DATABASE_URL=sqlite+aiosqlite:////app/data/learnbot.db \
    LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '3000'), timeout=4)"]
# The server upgrades the database on start; `learnbot db upgrade` does it on its own.
CMD ["learnbot", "serve"]
