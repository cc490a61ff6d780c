# The image the EKS deployment runs (deploy/k8s/): `server` (every route,
# :8080) and `migrate` (the migration Job runs it with the same image).
#
#   docker build -t expense-api:$(git rev-parse --short HEAD) .
#   buildah bud --layers -t expense-api:TAG .           # daemonless, same file
#
# Build stage: the pinned Rust toolchain (the one CI uses, rustc 1.95.0) on
# Debian 12, building only the two binaries, `--locked` to Cargo.lock. The
# cache mounts (BuildKit, or buildah >= 1.24) keep the registry and target
# directory between builds; binaries are copied out of the mount in the same
# step. Runtime stage: distroless cc on Debian 12 (glibc 2.36, libgcc, CA
# certificates, no shell, no package manager), running as uid 65532.
#
# Pin both bases by digest at release time (`FROM image:tag@sha256:...`):
# the digests cannot be looked up from this offline workspace.
#
# The image is built for the builder's platform. The EKS module's default
# nodes are Graviton (arm64): build on arm64, or with `docker buildx build
# --platform linux/arm64` (emulated, slow), or cross-compile and use
# Dockerfile.prebuilt (scripts/build_image.sh --arch arm64).
# For a builder without network access to crates.io, or to reuse binaries
# built outside Docker, see deploy/docker/Dockerfile.prebuilt.

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
# Only what the build reads: the workspace manifests, every member (cargo
# needs each manifest of the workspace), the SQL embedded by include_str!,
# and tests/ (named by server's [[test]] target).
COPY Cargo.toml Cargo.lock ./
COPY shared ./shared
COPY server ./server
COPY lambda ./lambda
COPY migrations ./migrations
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p server \
    && mkdir -p /out \
    && cp target/release/server /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="expense-api" \
      org.opencontainers.image.description="Expense tracker API server (server migrate prepares the database)" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/server /usr/local/bin/
# nonroot:nonroot of the distroless image, numeric so that the kubelet can
# verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENV HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json
# No HEALTHCHECK: distroless has no shell or curl, and Kubernetes probes
# GET /health and /openapi.json itself (deploy/k8s/base/deployment.yaml).
# checkov:skip=CKV_DOCKER_2:No shell or HTTP client in distroless to run one; the Kubernetes startup, readiness and liveness probes check the server.
ENTRYPOINT ["/usr/local/bin/server"]
