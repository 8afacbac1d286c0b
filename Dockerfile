# syntax=docker/dockerfile:1
# Perimeter: the proxy binary plus libchdb.so (the embedded ClickHouse), so
# the default storage.engine: embedded works in the container as it does
# on a host. Build:  docker build -t perimeter .
# Run:    docker run -p 4000:4000 -e LLM_BASE_URL=https://api.openai.com \
#           -e LLM_TYPE=openai -e LLM_API_KEY=sk-... -v perimeter-data:/var/lib/perimeter perimeter

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=bookworm

# 1. The binary: static (no cgo; libchdb is loaded at run time).
FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/perimeter ./cmd/perimeter

# 2. libchdb.so from its npm package, with the project's own installer
#    (the version is the Makefile's CHDB_PKG).
FROM node:22-${DEBIAN_RELEASE}-slim AS chdb
ARG CHDB_PKG=@chdb/lib-linux-x64-gnu@26.7.3-stable.1
COPY sink/chdb/install-libchdb.sh /usr/local/bin/install-libchdb.sh
RUN bash /usr/local/bin/install-libchdb.sh /out "${CHDB_PKG}"

# 3. Runtime: Debian slim (libchdb needs glibc), CA certificates for the
#    providers' TLS, an unprivileged user, data under one volume.
FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 perimeter \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/perimeter --shell /usr/sbin/nologin perimeter \
 && mkdir -p /var/lib/perimeter /etc/perimeter \
 && chown -R 10001:10001 /var/lib/perimeter
COPY --from=build /out/perimeter /usr/local/bin/perimeter
COPY --from=chdb /out/libchdb.so /usr/local/lib/perimeter/libchdb.so
COPY deploy/perimeter.yaml /etc/perimeter/perimeter.yaml
ENV CHDB_LIB_PATH=/usr/local/lib/perimeter/libchdb.so
USER 10001:10001
WORKDIR /var/lib/perimeter
VOLUME ["/var/lib/perimeter"]
# 4000: the proxy; 7100: the dashboard (it needs live_trace with a
# dashboard token to listen beyond loopback, see the README).
EXPOSE 4000 7100
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["perimeter", "healthcheck", "--url", "http://127.0.0.1:4000"]
ENTRYPOINT ["perimeter"]
CMD ["run", "--config", "/etc/perimeter/perimeter.yaml"]
