# syntax=docker/dockerfile:1
# F1 Race Strategy Analyzer — API image (default target "runtime") and AWS Lambda image ("lambda").
#
#   docker build -t f1analyzer .                       # the API, serves on :8000 with no volume
#   docker build --target lambda -t f1analyzer-lambda . # the same code for the SAM functions
#
# Dependencies are installed into /opt/venv from pyproject.toml alone, before the source is
# copied, so editing code does not re-download torch. torch is the CPU build.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG TORCH_VERSION=2.13.0

# ------------------------------------------------------------------------------------ builder
FROM ${PYTHON_IMAGE} AS builder
ARG TORCH_VERSION
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build

# 1. dependencies only (layer cached until pyproject.toml changes)
COPY pyproject.toml ./
RUN pip install --upgrade pip==26.3 setuptools==80.9.0 wheel==0.45.1 \
 && pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}" \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -r requirements.txt \
 && pip install awslambdaric==4.2.2

# 2. the package itself (with the bundled model set and the web dashboard as package data)
COPY README.md ./
COPY src ./src
RUN pip install --no-deps . \
 && python -c "import f1analyzer, pathlib; p = pathlib.Path(f1analyzer.__file__).parent; print('f1analyzer installed at', p)"

# --------------------------------------------------------------------------------------- base
FROM ${PYTHON_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OMP_NUM_THREADS=1 \
    F1A_HOME=/data \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1
RUN groupadd --system --gid 10001 f1a \
 && useradd --system --uid 10001 --gid f1a --home-dir /app --shell /usr/sbin/nologin f1a \
 && mkdir -p /data /app \
 && chown f1a:f1a /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY fastapi_backend.py train_models.py lambda_functions.py ./

# ------------------------------------------------------------------------------------- lambda
# Lambda runs the image with a read-only file system except /tmp: F1A_HOME moves there.
FROM base AS lambda
ENV F1A_HOME=/tmp/f1a
USER 10001:10001
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["lambda_functions.strategy_generation_handler"]

# ------------------------------------------------------------------------------------ runtime
FROM base AS runtime
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]
# load provider keys from Secrets Manager (when SECRETS_MANAGER_SECRET_ID is set), then exec CMD
ENTRYPOINT ["python", "-m", "f1analyzer.aws.secrets"]
CMD ["python", "fastapi_backend.py"]
