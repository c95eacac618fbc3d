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
# Provide at run time:
# - PAINDIARY_SECRET_KEY and PAINDIARY_AUDIT_KEY (>= 32 bytes each, different) and
#   PAINDIARY_DATABASE_URL;
# - mail for confirmation and password-reset codes: PAINDIARY_SMTP_HOST (required: the server
#   refuses to start without it while PAINDIARY_EMAIL_VERIFICATION=required, the production
#   default), and as needed PAINDIARY_SMTP_PORT, PAINDIARY_SMTP_TLS (none|starttls|tls, default
#   starttls), PAINDIARY_SMTP_USERNAME, PAINDIARY_SMTP_PASSWORD, PAINDIARY_SMTP_CA_FILE,
#   PAINDIARY_MAIL_FROM;
# - behind a reverse proxy: PAINDIARY_TRUSTED_PROXIES, its address(es) or network(s), comma-
#   separated (e.g. 10.0.0.5 or 172.16.0.0/12). Only connections from those may set the client
#   address through X-Forwarded-For; unset (the default), the header is ignored.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "paindiary migrate && exec paindiary serve --host 0.0.0.0 --port 8000 --workers ${PAINDIARY_WORKERS:-2}"]
