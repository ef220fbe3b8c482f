# Learnbot: `docker build -t learnbot . && docker run -p 3000:3000 --env-file .env learnbot`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY storage ./storage
COPY learnbot ./learnbot
# The compiled catalogues (.mo) are built here from the committed .po files, never committed.
RUN pip install --no-cache-dir 'babel>=2.14' && pybabel compile --statistics -d bot/locale -D messages
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 learnbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY app.yaml ./app.yaml
RUN mkdir -p /app/data && chown learnbot /app/data
USER learnbot
ENV PORT=3000 \
    LEARNBOT_CONFIG=/app/app.yaml \
    DATABASE_URL=sqlite+aiosqlite:////app/data/learnbot.db \
    PYTHONUNBUFFERED=1
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"
# The server upgrades the database on start; `learnbot db upgrade` does it on its own.
CMD ["learnbot", "serve"]
