#!/bin/bash
# Builds Stevedore and runs the whole test suite: unit tests, the root integration tests and the
# conformance suite against the real daemon. Installs the distribution packages it needs when
# they are missing. Run as root so nothing is skipped.
# Usage: sudo ./test.sh [extra maven args...]
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
[ "$(id -u)" = 0 ] || sd_log "WARNING: not root: tests that need root, namespaces or mounts will be skipped"
sd_install_packages
sd_find_jdk
sd_log "testing with JAVA_HOME=$JAVA_HOME"
sd_mvn verify "$@"
