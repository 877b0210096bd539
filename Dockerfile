# Builds the single `ledgerline` binary and runs it on a slim image as an unprivileged user.
# (Kept correct by reading: no Docker on the machines that run the tests.)
FROM rust:1.95-bookworm AS build
WORKDIR /src

# Dependencies first, in a layer of their own: it is rebuilt only when Cargo.toml or
# Cargo.lock change, so a change to Ledgerline's own code recompiles only Ledgerline.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin ledgerline \
    && rm -rf src

COPY . .
# The real sources are older than the placeholder build's output: touch them so Cargo rebuilds.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin ledgerline

FROM debian:bookworm-slim
# ca-certificates for Exact's HTTPS; curl for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/ledgerline --shell /usr/sbin/nologin ledgerline
COPY --from=build /src/target/release/ledgerline /usr/local/bin/ledgerline
ENV LEDGERLINE_BIND=0.0.0.0:8080 \
    LEDGERLINE_DATA_DIR=/var/lib/ledgerline
# Owned by the user above, so a new volume is writable by it.
VOLUME /var/lib/ledgerline
USER ledgerline
EXPOSE 8080
# /healthz: up and the database answers (the compose file uses /readyz, which also checks that
# every migration is applied). Change the port here if LEDGERLINE_BIND does.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["ledgerline"]
CMD ["serve"]
