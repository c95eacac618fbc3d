# Multi-stage build: dependencies are built in one stage, the runtime image carries only the venv.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install .

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAINDIARY_ENV=production \
    PAINDIARY_MIGRATIONS_DIR=/srv/paindiary/migrations \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /srv/paindiary paindiary
WORKDIR /srv/paindiary
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
RUN mkdir -p var && chown paindiary:paindiary var
USER paindiary
EXPOSE 8000
# PAINDIARY_SECRET_KEY and PAINDIARY_AUDIT_KEY (>= 32 bytes each, different) and
# PAINDIARY_DATABASE_URL must be provided at run time.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "paindiary migrate && exec paindiary serve --host 0.0.0.0 --port 8000 --workers ${PAINDIARY_WORKERS:-2}"]
