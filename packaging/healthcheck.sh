#!/bin/bash
# Container HEALTHCHECK: GET /healthz (or /$1, e.g. readyz) on the local server, exit 0 on 200.
#
# Plain bash (its /dev/tcp), not `halobuzz healthcheck`: the one-file binary unpacks its
# whole bundle (~100 MB) into a temporary directory at every launch, which every 15 s is
# wasted disk I/O and CPU beside a busy server. The port is the one `serve` recorded in
# <data>/serve.port (see halobuzz/cli/serve_file.py), else $HALOBUZZ_PORT, else 8080.
set -u
data="${HALOBUZZ_DATA_DIR:-/data}"
host=127.0.0.1
port="${HALOBUZZ_PORT:-8080}"
if [ -r "$data/serve.port" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      port) port="$value" ;;
      host) case "$value" in 0.0.0.0|""|"*") ;; "::") host=::1 ;; *) host="$value" ;; esac ;;
    esac
  done < "$data/serve.port"
fi
path="/${1:-healthz}"
if ! exec 3<>"/dev/tcp/$host/$port"; then
  echo "unhealthy: nothing listens on $host:$port" >&2
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
if ! IFS= read -r -t 3 status <&3; then
  echo "unhealthy: no answer from $host:$port$path" >&2
  exit 1
fi
status="${status%$'\r'}"
case "$status" in
  "HTTP/1."?" 200"*) exit 0 ;;
esac
echo "unhealthy: $host:$port$path answered $status" >&2
exit 1
