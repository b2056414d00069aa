#!/usr/bin/env bash
# Sourced (not executed) by ./tickvm and ./test: makes a fresh Debian bookworm machine ready
# (JDK 25, Maven, binutils, make, Unicorn 2.1.x), installing only what is missing, and
# defines tickvm_build_if_needed. Prints one "tickvm: ..." line per install, nothing otherwise.
# Note: it turns on strict mode in whatever shell sources it, and exits that shell on error.
set -euo pipefail

# Absolute from the start, so neither the caller's directory nor CDPATH matters.
TICKVM_ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
# ~ rather than $HOME: it still works when HOME is unset (env -i, some CI runners).
TICKVM_CACHE=${XDG_CACHE_HOME:-${HOME:-~}/.cache}/tickvm
# Debian's multiarch triplet; $HOSTTYPE avoids forking uname on every run.
TICKVM_MULTIARCH=${HOSTTYPE}-linux-gnu

# mktemp (here and in ./test) writes under $TMPDIR: one that is not a writable
# directory (deleted, mistyped) would stop every command at its first mktemp. Such a TMPDIR is
# not the caller's intent either way, so /tmp takes its place, for the JVM and Maven too.
if [[ -n ${TMPDIR:-} && ! (-d $TMPDIR && -w $TMPDIR && -x $TMPDIR) ]]; then
    export TMPDIR=/tmp
fi

tickvm_say() { printf 'tickvm: %s\n' "$*" >&2; }
tickvm_die() { tickvm_say "$*"; exit 1; }

# --- JDK 25 --------------------------------------------------------------------------------

# Prints the Java feature version (25, 17, 8, ...) of a Java home; fails if it has no bin/java.
tickvm_java_major() {
    local home=$1 line version=''
    [[ -x $home/bin/java ]] || return 1
    # The release file answers without starting a JVM (java -version costs ~150 ms).
    if [[ -r $home/release ]]; then
        while IFS= read -r line; do
            if [[ $line =~ ^JAVA_VERSION=\"?([^\"]+) ]]; then
                version=${BASH_REMATCH[1]}
                break
            fi
        done <"$home/release"
    fi
    if [[ -z $version ]]; then
        local out
        out=$("$home/bin/java" -version 2>&1) || return 1
        [[ $out =~ version\ \"([^\"]+)\" ]] || return 1
        version=${BASH_REMATCH[1]}
    fi
    version=${version#1.} # pre-9 numbering: 1.8.0_402 is Java 8
    printf '%s\n' "${version%%[!0-9]*}"
}

tickvm_is_java25() {
    local major
    major=$(tickvm_java_major "$1") || return 1
    [[ -n $major ]] && ((major >= 25))
}

tickvm_find_jdk() {
    local candidate path_java='' path_major=''
    if [[ -n ${JAVA_HOME:-} ]] && tickvm_is_java25 "$JAVA_HOME"; then
        return 0
    fi
    # Temurin from Adoptium's .deb lands in Debian's JVM folder; never Debian's default (17).
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        if [[ -d $candidate ]] && tickvm_is_java25 "$candidate"; then
            JAVA_HOME=$candidate
            return 0
        fi
    done
    if path_java=$(command -v java); then
        candidate=$(readlink -f "$path_java")
        candidate=${candidate%/bin/java}
        path_major=$(tickvm_java_major "$candidate") || path_major=''
        if [[ -n $path_major ]] && ((path_major >= 25)); then
            JAVA_HOME=$candidate
            return 0
        fi
    fi
    tickvm_die "no JDK 25 found. Looked at: \$JAVA_HOME (${JAVA_HOME:-unset})," \
        "/usr/lib/jvm/temurin-25-jdk-amd64, /usr/lib/jvm/*25*, and java on PATH" \
        "(${path_java:-none}${path_major:+, Java $path_major}). Install a JDK 25 (e.g. Temurin 25) or set JAVA_HOME to one."
}

tickvm_find_jdk
export JAVA_HOME
# Prepend only once, so nested sourcing does not grow PATH.
if [[ :$PATH: != *":$JAVA_HOME/bin:"* ]]; then
    export PATH="$JAVA_HOME/bin:$PATH"
fi

# --- Debian packages -----------------------------------------------------------------------

tickvm_apt_updated=0

# Installs Debian packages; one "installing" line each, apt's chatter only on failure.
tickvm_apt_install() {
    local pkg log
    local -a apt_get
    command -v apt-get >/dev/null || tickvm_die "apt-get not found; install by hand: $*"
    # apt-get as root: directly, or through sudo.
    if ((EUID == 0)); then
        apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get)
    elif command -v sudo >/dev/null; then
        apt_get=(sudo env DEBIAN_FRONTEND=noninteractive apt-get)
    else
        tickvm_die "need root (or sudo) to install: $*"
    fi
    for pkg in "$@"; do tickvm_say "installing $pkg (apt-get) ..."; done
    log=$(mktemp)
    # One update per run is enough: the package lists do not change within seconds.
    if ((!tickvm_apt_updated)); then
        if ! "${apt_get[@]}" -qq update >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            rm -f "$log"
            tickvm_die "apt-get update failed"
        fi
        tickvm_apt_updated=1
    fi
    # Wait for the dpkg lock instead of failing when another install runs concurrently.
    if ! "${apt_get[@]}" -qq -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" \
        >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        tickvm_die "apt-get install $* failed"
    fi
    rm -f "$log"
}

tickvm_install_tools() {
    local -a missing=()
    command -v mvn >/dev/null || missing+=(maven)
    # The guest images are assembled and linked with binutils, driven by make.
    if ! command -v as >/dev/null || ! command -v ld >/dev/null ||
        ! command -v objcopy >/dev/null || ! command -v nm >/dev/null; then
        missing+=(binutils)
    fi
    command -v make >/dev/null || missing+=(make)
    if ((${#missing[@]})); then
        tickvm_apt_install "${missing[@]}"
    fi
}

tickvm_install_tools

# Debian's Maven 3.8.7 bundles a Guava that prints four sun.misc.Unsafe warnings per build on
# JDK 24+; allow that access so Maven's output is only Maven's.
if [[ " ${MAVEN_OPTS:-} " != *" --sun-misc-unsafe-memory-access="* ]]; then
    export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
fi

# --- Unicorn 2.1.x -------------------------------------------------------------------------

# The default is Debian forky's libunicorn2t64 (2.1.4 when written), unpacked into
# $TICKVM_CACHE/unicorn-<version>: 2.1.0 and 2.1.1 miss a store into translated code made after
# another store to its page (cputlb.c's notdirty_write, fixed in 2.1.2), so forky's is taken only
# when it is 2.1.2 or a newer 2.1.x. Trixie's 2.1.1 (in $TICKVM_CACHE/unicorn-2.1.1) is the
# fallback when that fails, bookworm's own 2.0.1 the last resort.

# Prints the upstream part of a Debian version (1:2.1.4+dfsg-4 -> 2.1.4).
tickvm_upstream_version() {
    local version=${1#*:}
    version=${version%-*}
    printf '%s\n' "${version%%[+~]*}"
}

# True when an upstream version is 2.1.N with N >= $2.
tickvm_is_unicorn21() {
    [[ $1 =~ ^2\.1\.([0-9]+)$ ]] && ((10#${BASH_REMATCH[1]} >= $2))
}

# Prints the newest unpacked Unicorn 2.1.2+ under $TICKVM_CACHE (its libunicorn.so.2); fails if none.
tickvm_cached_unicorn() {
    local dir version best='' best_patch=-1
    for dir in "$TICKVM_CACHE"/unicorn-2.1.*/; do
        dir=${dir%/}
        version=${dir##*/unicorn-}
        tickvm_is_unicorn21 "$version" 2 || continue
        [[ -f $dir/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2 ]] || continue
        if ((${version##*.} > best_patch)); then
            best=$dir/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2
            best_patch=${version##*.}
        fi
    done
    [[ -n $best ]] && printf '%s\n' "$best"
}

# Fetches suite $3's libunicorn2t64 (a 2.1.N with N >= $4) into folder $5 (when empty,
# $TICKVM_CACHE/unicorn-<version>) with a private apt state under $1 (the system's apt
# configuration and state are only read), and writes its libunicorn.so.2's path into file $2.
# Every step checks its own status: this runs in a tested context, where set -e is off.
tickvm_fetch_unicorn21_into() {
    local work=$1 out=$2 suite=$3 min_patch=$4 dest=${5:-} deb version upstream libc_min libc_have
    local apt=$work/apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/state" "$work/deb" || return 1
    printf '%s\n' "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
        >"$apt/sources.list" || return 1
    local -a opts=(
        -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
        -o "Dir::State=$apt/state" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o Dir::State::status=/var/lib/dpkg/status -o Acquire::Languages=none
    )
    # As root, apt drops to _apt, which cannot write our private folder: stay root instead.
    if ((EUID == 0)); then opts+=(-o APT::Sandbox::User=root); fi
    apt-get "${opts[@]}" -q update || return 1
    (cd "$work/deb" && apt-get "${opts[@]}" -q download libunicorn2t64) || return 1
    deb=$(find "$work/deb" -maxdepth 1 -name 'libunicorn2t64_*.deb' -print -quit) || return 1
    [[ -n $deb ]] || return 1
    version=$(dpkg-deb -f "$deb" Version) || return 1
    upstream=$(tickvm_upstream_version "$version")
    if ! tickvm_is_unicorn21 "$upstream" "$min_patch"; then
        if ((min_patch == 0)); then
            echo "$suite's libunicorn2t64 is $version, not 2.1.x" >&2
        else
            echo "$suite's libunicorn2t64 is $version, not 2.1.$min_patch or a newer 2.1.x" >&2
        fi
        return 1
    fi
    # A package built for a newer C library than this machine's would not load: say so here.
    libc_min=$(dpkg-deb -f "$deb" Depends | sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p') || return 1
    libc_have=$(dpkg-query -W -f '${Version}' libc6 2>/dev/null) || libc_have=''
    if [[ -n $libc_min && -n $libc_have ]] && ! dpkg --compare-versions "$libc_have" ge "$libc_min"; then
        echo "$suite's libunicorn2t64 $version needs libc6 $libc_min, this machine has $libc_have" >&2
        return 1
    fi
    dpkg-deb -x "$deb" "$work/root" || return 1
    [[ -f $work/root/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2 ]] || return 1
    [[ -n $dest ]] || dest=$TICKVM_CACHE/unicorn-$upstream
    rm -rf "$dest" || return 1
    # Atomic: a reader sees either no folder or a complete one (-T: never move into it).
    mv -T "$work/root" "$dest" || return 1
    printf '%s\n' "$dest/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2" >"$out" || return 1
}

# Holds $TICKVM_CACHE/install.lock (fd 9, opened by the caller) while fetching as
# tickvm_fetch_unicorn21_into does (suite $1, N >= $2, folder $3), saying "installing $4" and
# logging to $5; prints the library's path.
tickvm_fetch_unicorn21_locked() {
    local suite=$1 min_patch=$2 dest=$3 what=$4 log=$5 work rc=0 lib
    flock 9 || return 1
    # Another run may have finished the install while we waited for the lock.
    if [[ -z $dest ]]; then
        tickvm_cached_unicorn && return 0
    elif [[ -f $dest/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2 ]]; then
        printf '%s\n' "$dest/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2"
        return 0
    fi
    # Leftovers of interrupted runs: no one else can be using them while we hold the lock.
    rm -rf "$TICKVM_CACHE"/.fetch.*
    tickvm_say "installing $what into $TICKVM_CACHE ..."
    work=$(mktemp -d "$TICKVM_CACHE/.fetch.XXXXXX") || return 1
    tickvm_fetch_unicorn21_into "$work" "$work/lib" "$suite" "$min_patch" "$dest" >"$log" 2>&1 || rc=$?
    if ((rc == 0)); then lib=$(<"$work/lib") || rc=1; fi
    rm -rf "$work"
    ((rc == 0)) && printf '%s\n' "$lib"
    return "$rc"
}

tickvm_find_unicorn() {
    local dest=$TICKVM_CACHE/unicorn-2.1.1
    local lib=$dest/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2
    local system_lib=/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2
    local codename='' key value found
    if [[ -n ${TICKVM_UNICORN_LIB:-} ]]; then
        if [[ -f $TICKVM_UNICORN_LIB ]]; then
            export TICKVM_UNICORN_LIB
            return 0
        fi
        tickvm_say "ignoring TICKVM_UNICORN_LIB=$TICKVM_UNICORN_LIB: no such file"
    fi
    # Only a 2.1.2+ counts here: an older cache's unicorn-2.1.1 is the fallback, not the default.
    if found=$(tickvm_cached_unicorn); then
        export TICKVM_UNICORN_LIB=$found
        return 0
    fi
    if [[ -r /etc/os-release ]]; then
        while IFS='=' read -r key value; do
            if [[ $key == VERSION_CODENAME ]]; then codename=${value//\"/}; fi
        done </etc/os-release
    fi
    case $codename in
    buster | bullseye | bookworm | '') ;;
    *)
        # trixie and newer ship Unicorn 2.1.x themselves.
        [[ -f $system_lib ]] || tickvm_apt_install libunicorn2t64
        export TICKVM_UNICORN_LIB=$system_lib
        return 0
        ;;
    esac
    mkdir -p "$TICKVM_CACHE"
    # A failed fetch is retried after a day, not on every run (each try downloads ~10 MB).
    local failed_forky=$TICKVM_CACHE/unicorn-forky.failed log_forky=$TICKVM_CACHE/fetch-forky.log
    if [[ ! -e $failed_forky || -n $(find "$failed_forky" -mmin +1440) ]]; then
        if found=$(tickvm_fetch_unicorn21_locked forky 2 '' "Unicorn 2.1.x (Debian forky's libunicorn2t64)" \
            "$log_forky" 9>"$TICKVM_CACHE/install.lock"); then
            rm -f "$failed_forky" "$log_forky"
            export TICKVM_UNICORN_LIB=$found
            return 0
        fi
        touch "$failed_forky"
        tickvm_say "note: could not fetch Unicorn 2.1.2+ from Debian forky (log: $log_forky; delete" \
            "$failed_forky to retry now); falling back to trixie's 2.1.1"
    fi
    if [[ -f $lib ]]; then
        export TICKVM_UNICORN_LIB=$lib
        return 0
    fi
    local failed=$TICKVM_CACHE/unicorn-2.1.1.failed
    if [[ ! -e $failed || -n $(find "$failed" -mmin +1440) ]]; then
        if found=$(tickvm_fetch_unicorn21_locked trixie 0 "$dest" "Unicorn 2.1.1 (Debian trixie's libunicorn2t64)" \
            "$TICKVM_CACHE/fetch.log" 9>"$TICKVM_CACHE/install.lock"); then
            rm -f "$failed" "$TICKVM_CACHE/fetch.log"
            export TICKVM_UNICORN_LIB=$found
            return 0
        fi
        touch "$failed"
        tickvm_say "could not fetch Unicorn 2.1.x (log: $TICKVM_CACHE/fetch.log; delete $failed to retry now)"
    fi
    [[ -f $system_lib ]] || tickvm_apt_install libunicorn2
    tickvm_say "warning: using bookworm's Unicorn 2.0.1, which has known defects" \
        "(it aborts the whole process on some invalid guest code)"
    export TICKVM_UNICORN_LIB=$system_lib
}

tickvm_find_unicorn

# For ./test only: bookworm's Unicorn 2.0.1 unpacked into $TICKVM_CACHE/unicorn-2.0.1, as
# TICKVM_UNICORN_OTHER_LIB, so that the test that restores a vCPU saved under one Unicorn on the
# other runs (VcpuStateTest). Best effort: without it that one test is skipped.
tickvm_find_other_unicorn() {
    local dest=$TICKVM_CACHE/unicorn-2.0.1 work deb
    local lib=$dest/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2
    if [[ ! -f $lib ]]; then
        mkdir -p "$TICKVM_CACHE" || return 0
        work=$(mktemp -d "$TICKVM_CACHE/.other.XXXXXX") || return 0
        if (cd "$work" && apt-get -q download libunicorn2 >/dev/null 2>&1); then
            deb=$(find "$work" -maxdepth 1 -name 'libunicorn2_2.0.*.deb' -print -quit)
            if [[ -n $deb ]] && dpkg-deb -x "$deb" "$work/root" && [[ -f $work/root/usr/lib/$TICKVM_MULTIARCH/libunicorn.so.2 ]]; then
                mv -T "$work/root" "$dest" 2>/dev/null || true
            fi
        fi
        rm -rf "$work"
    fi
    if [[ -f $lib ]]; then
        export TICKVM_UNICORN_OTHER_LIB=$lib
    fi
    return 0
}

# --- Build ---------------------------------------------------------------------------------

# True when tools/target/tickvm.jar is missing or older than a source, a pom, or a guest file
# (guest-images/src/main/guest/* lies under */src).
tickvm_build_stale() {
    local jar=$1 path newer
    local -a roots=()
    [[ -f $jar ]] || return 0
    for path in "$TICKVM_ROOT"/*/src "$TICKVM_ROOT"/pom.xml "$TICKVM_ROOT"/*/pom.xml; do
        [[ -e $path ]] && roots+=("$path")
    done
    newer=$(find "${roots[@]}" -newer "$jar" -print -quit)
    [[ -n $newer ]]
}

# Holds $TICKVM_CACHE/build.lock (fd 8, opened by the caller) so concurrent runs build once.
tickvm_build_locked() {
    local jar=$1 log start rc=0
    flock 8
    tickvm_build_stale "$jar" || return 0
    tickvm_say "building (mvn) ..."
    log=$(mktemp)
    start=$(mktemp) # its mtime marks the start of the build
    (cd "$TICKVM_ROOT" && mvn -B -q -DskipTests install) >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        tail -n 40 "$log" >&2
        rm -f "$log" "$start"
        tickvm_die "build failed (mvn exited with $rc)"
    fi
    rm -f "$log"
    if [[ ! -f $jar ]]; then
        rm -f "$start"
        tickvm_die "mvn succeeded but did not produce $jar (is the tools module listed in pom.xml?)"
    fi
    # Maven keeps an up-to-date jar as is, so a touched-but-unchanged pom would make every run
    # rebuild: date the jar to the build's start instead (files edited during it stay newer).
    touch -r "$start" "$jar"
    rm -f "$start"
}

tickvm_build_if_needed() {
    local jar=$TICKVM_ROOT/tools/target/tickvm.jar
    tickvm_build_stale "$jar" || return 0
    mkdir -p "$TICKVM_CACHE"
    tickvm_build_locked "$jar" 8>"$TICKVM_CACHE/build.lock"
}
