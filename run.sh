#!/bin/bash
# Builds Stevedore and runs the daemon with working defaults:
#   socket /run/stevedore/stevedore.sock, state /var/lib/stevedore, config /etc/stevedore/stevedore.toml
#   (optional). Installs the distribution packages it needs when they are missing.
# Usage: sudo ./run.sh [daemon flags...]     (see: bin/stevedore --help)
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
[ "$(id -u)" = 0 ] || sd_die "run as root: the daemon manages namespaces, mounts and cgroups (sudo ./run.sh)"
sd_install_packages
sd_find_jdk
sd_log "building with JAVA_HOME=$JAVA_HOME"
sd_mvn -q -DskipTests package
sd_log "starting: bin/stevedore $*"
exec bin/stevedore "$@"
