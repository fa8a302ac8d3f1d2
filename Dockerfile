# The maas-sidecar image: `maas-sidecar region|rack|simulator|demo`.
# BASE must provide the Node.js LTS named in .node-version (node and npm) on Debian; the default
# is the public image, and the image test passes a locally made base instead (no registry is
# reachable there).
ARG BASE=node:26-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY bin ./bin
COPY scripts/build.mjs scripts/esbuild-options.mjs ./scripts/
COPY src ./src
# esbuild bundles src/ into dist/ (the types were checked by the suite that built this commit).
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="maas-sidecar" \
      org.opencontainers.image.description="Sidecars that run Ubuntu MAAS hands-off on Kubernetes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="AGPL-3.0-only" \
      org.opencontainers.image.source="https://github.com/maas-sidecar/maas-sidecar"
# nsenter (util-linux) for COMMAND_MODE=nsenter; ip (iproute2) for the provisioning-bridge component.
RUN apt-get update \
 && apt-get install -y --no-install-recommends util-linux iproute2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
ENV NODE_ENV=production
# Non-root by default; the Kubernetes manifests grant root plus SYS_ADMIN/SYS_PTRACE only where
# nsenter needs them.
USER 65532:65532
EXPOSE 8080
# A 1 MB young-generation semi-space: a sidecar allocates little, and V8's default (16 MB) keeps
# garbage that an idle process never collects: -8 MB RSS per sidecar, -28 MB for a region
# answering 1,000 racks' long-polls, no throughput lost (BENCHMARKS.md; `npm run bench` reads
# these flags from here, to measure what ships).
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/bin/maas-sidecar.js"]
CMD ["--help"]
