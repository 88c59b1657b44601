# Activity Log: dashboard build, server build, and a slim runtime image.
FROM node:20-bookworm AS dashboard
WORKDIR /src
COPY openapi.yaml ./
COPY frontend/ frontend/
RUN if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; \
    else mkdir -p frontend/dist; fi

FROM rust:1.95-bookworm AS server
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY backend/ backend/
RUN cargo build --release --locked -p auditlog-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app auditlog
WORKDIR /app
COPY --from=server /src/target/release/auditlog /usr/local/bin/auditlog
COPY --from=dashboard /src/frontend/dist /app/frontend/dist
ENV BIND=0.0.0.0:8080 STATIC_DIR=/app/frontend/dist DATA_DIR=/app/data RUST_LOG=info
RUN mkdir -p /app/data /var/lib/auditlog/integrity && chown auditlog /app/data /var/lib/auditlog/integrity
USER auditlog
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
CMD ["auditlog", "serve"]
