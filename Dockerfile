# Builds the single `ledgerline` binary and runs it on a slim image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ledgerline

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/ledgerline /usr/local/bin/ledgerline
ENV LEDGERLINE_BIND=0.0.0.0:8080 \
    LEDGERLINE_DATA_DIR=/var/lib/ledgerline
VOLUME /var/lib/ledgerline
EXPOSE 8080
ENTRYPOINT ["ledgerline"]
CMD ["serve"]
