#!/usr/bin/env bash
# Build Svix's open-source webhook server (svix-server, Rust) at a pinned commit, for the
# side-by-side benchmark in bench/. Prints the binary path on stdout (all logs go to stderr):
#
#   SVIX_BIN=$(bench/peers/build-svix.sh)
#
# Idempotent: sources are re-materialised in a scratch dir and only swapped in when their content
# differs (so cargo's mtime fingerprints stay valid), and the cargo build is skipped entirely when
# the binary already exists with a matching build id for these pins.
#
# Offline recipe (only the package registries are reachable):
#   * svix-webhooks, omniqueue-rs and rust-executable-metadata come from local bare git mirrors
#     (`git archive` at the pinned revs). The two latter are git dependencies of svix-server and
#     are redirected with `[patch."<git url>"] <crate> = { path = ... }`.
#   * svix's hyper fork (svix/hyper rev 7d3bff97) = hyper 1.11.0 from the crates registry plus a small
#     patch (HeaderCaseMap made pub, `get()` and `From<HeaderMap<Bytes>>` added); it is rebuilt from
#     the registry's tarball (checksum-pinned) + HYPER_PATCH below, and wired in with
#     `[patch.crates-io] hyper = { path = ... }`.
#   * Cargo.lock only loses the three `source = "git+..."` lines; the build runs with --locked.
#
# The three repositories are cloned (bare) from GitHub into $ROOT/mirrors the first time; where
# GitHub is out of reach, point these at bare clones made elsewhere.
# Env overrides: SVIX_MIRROR, OMNIQUEUE_MIRROR, REM_MIRROR (bare git dirs), SVIX_BUILD_ROOT,
# CARGO_HOME. Needs: git, cargo (rust >= 1.88), patch, cc/make/cmake/perl, pkg-config + libssl-dev.
set -euo pipefail

SVIX_COMMIT=4fc0cfb8b426c87ef7e2b937e7d896a71d456a47
# git dependencies pinned by svix's server/Cargo.lock
OMNIQUEUE_REV=acb40983ed65f6cbebb19c05d590249306674a33
REM_REV=7a32435fbdab53f33e6abab9c1ab500afef0a7a8 # rust-executable-metadata (build-dependency)
HYPER_VERSION=1.11.0
HYPER_CRATE_SHA256=d22053281f852e11534f5198498373cbb59295120a20771d90f7ed1897490a72

ROOT=${SVIX_BUILD_ROOT:-${HOME:?}/.cache/webhooks/peers/svix}
SVIX_MIRROR=${SVIX_MIRROR:-$ROOT/mirrors/svix-webhooks.git}
OMNIQUEUE_MIRROR=${OMNIQUEUE_MIRROR:-$ROOT/mirrors/omniqueue-rs.git}
REM_MIRROR=${REM_MIRROR:-$ROOT/mirrors/rust-executable-metadata.git}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}

# NB: these directory names are also hard-coded (relative to server/) in SERVER_PATCH below.
SRC=$ROOT/src-${SVIX_COMMIT:0:9}
HYPER_DIR=$ROOT/hyper-$HYPER_VERSION-svix
OMNIQUEUE_DIR=$ROOT/omniqueue-${OMNIQUEUE_REV:0:9}
REM_DIR=$ROOT/rust-executable-metadata-${REM_REV:0:9}
export CARGO_TARGET_DIR=$ROOT/target
BIN=$CARGO_TARGET_DIR/release/svix-server
STAMP=$BIN.build-id
BUILD_ID="svix-webhooks=$SVIX_COMMIT hyper=$HYPER_VERSION+svix-patch-1 omniqueue=$OMNIQUEUE_REV rust-executable-metadata=$REM_REV profile=release features=default"

log() { echo "build-svix: $*" >&2; }
die() {
  echo "build-svix: error: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Fast path: nothing to do when this exact build already exists.
if [[ -x "$BIN" && -f "$STAMP" && "$(<"$STAMP")" == "$BUILD_ID" ]]; then
  log "up to date ($SVIX_COMMIT), skipping build"
  echo "$BIN"
  exit 0
fi

need_rev() { # mirror rev env-var-name github-repo
  if [[ ! -d "$1" ]]; then
    log "cloning https://github.com/$4 into $1"
    git clone -q --bare "https://github.com/$4.git" "$1" ||
      die "could not clone https://github.com/$4 (set $3 to a bare clone of it)"
  fi
  git --git-dir="$1" cat-file -e "$2^{commit}" 2>/dev/null ||
    die "commit $2 is not in the mirror $1 (set $3 to a mirror containing it)"
}
need_rev "$SVIX_MIRROR" "$SVIX_COMMIT" SVIX_MIRROR svix/svix-webhooks
need_rev "$OMNIQUEUE_MIRROR" "$OMNIQUEUE_REV" OMNIQUEUE_MIRROR svix/omniqueue-rs
need_rev "$REM_MIRROR" "$REM_REV" REM_MIRROR svix/rust-executable-metadata
for tool in git cargo patch sha256sum flock diff; do
  command -v "$tool" >/dev/null || die "required tool not found: $tool"
done

mkdir -p "$ROOT"
exec 9>"$ROOT/.build.lock"
flock 9 # one build at a time

# materialise DEST PRODUCER [ARGS...]: PRODUCER fills "$1" (a fresh dir); DEST is replaced only
# when the result differs, so unchanged trees keep their mtimes and cargo does not rebuild.
materialise() {
  local dest=$1 tmp
  shift
  tmp=$(mktemp -d "$ROOT/.tmp.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir "$tmp/new"
  "$@" "$tmp/new"
  if [[ -d "$dest" ]] && diff -rq --no-dereference "$tmp/new" "$dest" >/dev/null 2>&1; then
    log "$(basename "$dest"): unchanged"
  else
    log "$(basename "$dest"): (re)written"
    rm -rf "$dest"
    mv "$tmp/new" "$dest"
  fi
  rm -rf "$tmp"
  trap - EXIT
}

produce_src() {
  git --git-dir="$SVIX_MIRROR" archive "$SVIX_COMMIT" server | tar -x -C "$1"
  printf '%s\n' "$SERVER_PATCH" | patch -s -p1 --fuzz=0 --no-backup-if-mismatch -d "$1" ||
    die "server/Cargo.{toml,lock} patch did not apply"
  ! grep -q 'source = "git+' "$1/server/Cargo.lock" || die "Cargo.lock still has git sources"
}

produce_git_tree() { # mirror rev dest
  git --git-dir="$1" archive "$2" | tar -x -C "$3"
}

hyper_crate() {
  local f
  f=$(find "$CARGO_HOME/registry/cache" -name "hyper-$HYPER_VERSION.crate" -print -quit 2>/dev/null || true)
  if [[ -z "$f" ]]; then
    # Let cargo download it from the crates registry (checksum-verified) via a throwaway project.
    log "fetching hyper $HYPER_VERSION from the crates registry"
    local fetch=$ROOT/hyper-fetch
    mkdir -p "$fetch/src"
    printf '%s\n' '[package]' 'name = "hyper-fetch"' 'version = "0.0.0"' 'edition = "2021"' \
      'publish = false' '[dependencies]' \
      "hyper = { version = \"=$HYPER_VERSION\", default-features = false }" >"$fetch/Cargo.toml"
    echo 'fn main() {}' >"$fetch/src/main.rs"
    (cd "$fetch" && cargo fetch -q) >&2
    f=$(find "$CARGO_HOME/registry/cache" -name "hyper-$HYPER_VERSION.crate" -print -quit)
    [[ -n "$f" ]] || die "cargo fetch did not produce hyper-$HYPER_VERSION.crate"
  fi
  echo "$f $HYPER_CRATE_SHA256" | awk '{print $2"  "$1}' | sha256sum -c --quiet - >&2 ||
    die "checksum mismatch for $f"
  echo "$f"
}

produce_hyper() {
  local crate
  crate=$(hyper_crate)
  tar -xzf "$crate" -C "$1" --strip-components=1
  printf '%s\n' "$HYPER_PATCH" | patch -s -p1 --fuzz=0 --no-backup-if-mismatch -d "$1" ||
    die "hyper patch did not apply"
}

# ---------------------------------------------------------------------------------------------
# Patches (kept verbatim; applied with --fuzz=0 so any drift fails loudly).

# svix's hyper fork (svix/hyper commits "Make HeaderCaseMap public" + "Add `get`
# method to `HeaderCaseMap`"), re-applied to the crates registry hyper 1.11.0. The doc comment on `get`
# is needed because hyper has #![deny(missing_docs)] and path dependencies are not lint-capped.
HYPER_PATCH=$(
  cat <<'PATCH'
--- a/src/ext/mod.rs
+++ b/src/ext/mod.rs
@@ -158,10 +158,15 @@
 /// [`preserve_header_case`]: /client/struct.Client.html#method.preserve_header_case
 #[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
 #[derive(Clone, Debug)]
-pub(crate) struct HeaderCaseMap(HeaderMap<Bytes>);
+pub struct HeaderCaseMap(HeaderMap<Bytes>);
 
 #[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
 impl HeaderCaseMap {
+    /// Returns the first original spelling recorded for `key` (svix fork addition).
+    pub fn get(&self, key: HeaderName) -> Option<&Bytes> {
+        self.0.get(key)
+    }
+
     /// Returns a view of all spellings associated with that header name,
     /// in the order they were found.
     #[cfg(feature = "client")]
@@ -198,6 +203,13 @@
     }
 }
 
+#[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
+impl From<HeaderMap<Bytes>> for HeaderCaseMap {
+    fn from(hdr_map: HeaderMap<Bytes>) -> Self {
+        Self(hdr_map)
+    }
+}
+
 #[cfg(feature = "ffi")]
 #[derive(Clone, Debug)]
 /// Hashmap<Headername, numheaders with that name>
PATCH
)

# Point the hyper fork and the two GitHub git dependencies at the local trees; drop their git
# sources from Cargo.lock (all other entries, versions and checksums stay as svix pinned them).
SERVER_PATCH=$(
  cat <<'PATCH'
--- a/server/Cargo.toml
+++ b/server/Cargo.toml
@@ -37,4 +37,10 @@
 svix-server-derive = { opt-level = 0 }
 
 [patch.crates-io]
-hyper = { git = "https://github.com/svix/hyper.git", rev = "7d3bff970b5c218d4cdaa0807ed27d22a4090fa4" }
+hyper = { path = "../../hyper-1.11.0-svix" }
+
+[patch."https://github.com/svix/omniqueue-rs"]
+omniqueue = { path = "../../omniqueue-acb40983e/omniqueue" }
+
+[patch."https://github.com/svix/rust-executable-metadata"]
+rust-executable-metadata = { path = "../../rust-executable-metadata-7a32435fb" }
--- a/server/Cargo.lock
+++ b/server/Cargo.lock
@@ -2149,7 +2149,6 @@
 [[package]]
 name = "hyper"
 version = "1.11.0"
-source = "git+https://github.com/svix/hyper.git?rev=7d3bff970b5c218d4cdaa0807ed27d22a4090fa4#7d3bff970b5c218d4cdaa0807ed27d22a4090fa4"
 dependencies = [
  "atomic-waker",
  "bytes",
@@ -3195,7 +3194,6 @@
 [[package]]
 name = "omniqueue"
 version = "0.3.0"
-source = "git+https://github.com/svix/omniqueue-rs?rev=acb40983ed65f6cbebb19c05d590249306674a33#acb40983ed65f6cbebb19c05d590249306674a33"
 dependencies = [
  "bb8",
  "bb8-redis",
@@ -4228,7 +4226,6 @@
 [[package]]
 name = "rust-executable-metadata"
 version = "0.1.0"
-source = "git+https://github.com/svix/rust-executable-metadata?rev=7a32435fbdab53f33e6abab9c1ab500afef0a7a8#7a32435fbdab53f33e6abab9c1ab500afef0a7a8"
 dependencies = [
  "serde",
  "serde_json",
PATCH
)

# ---------------------------------------------------------------------------------------------
materialise "$HYPER_DIR" produce_hyper
materialise "$OMNIQUEUE_DIR" produce_git_tree "$OMNIQUEUE_MIRROR" "$OMNIQUEUE_REV"
materialise "$REM_DIR" produce_git_tree "$REM_MIRROR" "$REM_REV"
materialise "$SRC" produce_src

log "cargo build --release --locked -p svix-server (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
start=$SECONDS
(cd "$SRC/server" && cargo build --release --locked -p svix-server) >&2
log "cargo finished in $((SECONDS - start)) s"
[[ -x "$BIN" ]] || die "build finished but $BIN is missing"
"$BIN" --version >&2 || die "$BIN --version failed"
echo "$BUILD_ID" >"$STAMP"
echo "$BIN"
