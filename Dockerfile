# Projectr: one image for the web server and the django-q2 workers (compose.yaml runs both).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /app

# The release error reports name (ops.sentry): the image has no git to ask, so the build says it:
# docker build --build-arg SENTRY_RELEASE=$(git rev-parse HEAD) .
ARG SENTRY_RELEASE=""
ENV SENTRY_RELEASE=${SENTRY_RELEASE}

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time with throwaway settings values; the real ones come
# from the environment at run time.
RUN DEBUG=false SECRET_KEY=collectstatic-only ANYMAIL_WEBHOOK_SECRET=build:only \
    DATABASE_URL=postgres://build@127.0.0.1:1/build python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 projectr \
    && mkdir -p /app/.data/media "$PROMETHEUS_MULTIPROC_DIR" \
    && chown -R projectr /app/.data "$PROMETHEUS_MULTIPROC_DIR"
USER projectr

EXPOSE 8000
# The web process; the worker service overrides the command with `python manage.py qcluster`.
CMD ["sh", "-c", "rm -f $PROMETHEUS_MULTIPROC_DIR/*.db; exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --threads 4 --worker-class gthread --timeout 60 --access-logfile -"]
