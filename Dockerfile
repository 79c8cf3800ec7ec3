# Peerlink: one image, three processes (the Procfile's): `peerlink serve`, `peerlink worker`,
# and the release step `peerlink db upgrade`. Slim, and running as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY schedules ./schedules
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin peerlink

USER peerlink
ENV PORT=8000 LOG_FORMAT=json
EXPOSE 8000
# The web process by default; compose and PaaS set `peerlink worker` / `peerlink db upgrade`.
CMD ["peerlink", "serve"]
