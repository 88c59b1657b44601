# Activity Log: the dashboard's build, the server's build with its dependencies in a layer of
# their own (a change to the code rebuilds only the workspace's crates), and a slim runtime image
# that runs as a numeric non-root user and checks its own health without extra tools.

FROM node:22-bookworm AS dashboard
WORKDIR /src
# The packages first: this layer is reused until the lock file changes.
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
COPY openapi.yaml ./
COPY frontend/ frontend/
RUN cd frontend && npm run build

FROM rust:1.95-bookworm AS chef
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS plan
COPY Cargo.toml Cargo.lock ./
COPY backend/ backend/
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS server
COPY --from=plan /src/recipe.json recipe.json
# Only the dependencies, from the recipe (manifests and lock file): cached until they change.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY Cargo.toml Cargo.lock ./
COPY backend/ backend/
RUN cargo build --release --locked -p auditlog-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 auditlog \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home auditlog
WORKDIR /app
COPY --from=server /src/target/release/auditlog /usr/local/bin/auditlog
COPY --from=dashboard /src/frontend/dist /app/frontend/dist
ENV BIND=0.0.0.0:8080 STATIC_DIR=/app/frontend/dist DATA_DIR=/app/data \
    ARCHIVE_DIR=/var/lib/auditlog/archives RUST_LOG=info
RUN mkdir -p /app/data /var/lib/auditlog/integrity /var/lib/auditlog/archives \
    && chown 10001:10001 /app/data /var/lib/auditlog/integrity /var/lib/auditlog/archives
# A number, not a name, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["auditlog", "healthcheck"]
CMD ["auditlog", "serve"]
