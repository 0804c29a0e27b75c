# syntax=docker/dockerfile:1
#
# Authio production image: a static binary (templates, static files and
# migrations are embedded) on distroless, running as a non-root user.
#
#   docker build -t authio .
#   docker run --rm -e AUTHIO_SECRET_KEY=... -e AUTHIO_DATABASE_URL=postgres://... authio
#
# The listeners default to :8080 (tenants) and :9090 (admin: /metrics,
# /tls/ask); AUTHIO_* environment variables override them (see README.md, Configuration).

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/authio .

# distroless/static ships CA certificates, tzdata and /etc/passwd with the
# nonroot user (65532); no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authio /authio
ENV AUTHIO_LISTEN=:8080 \
    AUTHIO_ADMIN_LISTEN=:9090
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/authio"]
CMD ["serve"]
