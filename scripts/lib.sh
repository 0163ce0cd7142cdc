# shellcheck shell=bash
# Shared by run.sh and test.sh: find JDK 25 and install the distribution packages Stevedore
# needs when they are missing (Debian 12 / Ubuntu 24.04). Sourced, not run.

sd_log() { printf '[stevedore] %s\n' "$*" >&2; }
sd_die() { sd_log "ERROR: $*"; exit 1; }

# Packages and the command (or file) that shows each is installed.
SD_PACKAGES=(
    "maven:mvn"
    "gcc:gcc"
    "make:make"
    "libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a"   # static libc for stevedore-pause
    "runc:runc"
    "containernetworking-plugins:/usr/lib/cni/bridge"
    "iptables:iptables"
    "iproute2:ip"
    "util-linux:nsenter"
    "procps:ps"
    "docker-registry:/usr/bin/docker-registry"       # a real registry for the image tests
    "attr:getfattr"                                  # the image tests read overlay xattrs
    "busybox-static:/bin/busybox"                    # the container tests' image is built from it
    "criu:criu"                                      # CheckpointContainer (see README: which CRIU works)
)

sd_have() { case "$1" in /*) [ -e "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac; }

# Installs whatever of SD_PACKAGES is missing; needs root (or says what to install).
sd_install_packages() {
    local missing=() entry
    for entry in "${SD_PACKAGES[@]}"; do
        sd_have "${entry#*:}" || missing+=("${entry%%:*}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        sd_die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    command -v apt-get >/dev/null || sd_die "missing packages: ${missing[*]}, and no apt-get to install them"
    sd_log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || sd_die "apt-get install ${missing[*]} failed"
}

sd_java_ok() { [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; }

# Sets JAVA_HOME to a JDK 25 or newer: JAVA_HOME if it is one, else one under /usr/lib/jvm,
# else the distribution's openjdk-25 package when it has one.
sd_find_jdk() {
    local j
    if [ -n "${JAVA_HOME:-}" ] && sd_java_ok "$JAVA_HOME" && [ -x "$JAVA_HOME/bin/javac" ]; then return 0; fi
    for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/*; do
        if sd_java_ok "$j" && [ -x "$j/bin/javac" ]; then export JAVA_HOME=$j; return 0; fi
    done
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
        && apt-cache show openjdk-25-jdk-headless >/dev/null 2>&1; then
        sd_log "installing openjdk-25-jdk-headless"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-25-jdk-headless >/dev/null
        for j in /usr/lib/jvm/java-25-openjdk-*; do
            if sd_java_ok "$j"; then export JAVA_HOME=$j; return 0; fi
        done
    fi
    sd_die "no JDK 25 found: install one (Temurin 25, or openjdk-25-jdk-headless) and set JAVA_HOME"
}

sd_mvn() {
    # -B -ntp: plain output for logs and CI; surefire/failsafe print their summaries.
    mvn -B -ntp "$@"
}
