#!/usr/bin/env bash
# Installs everything Cairn needs to build and test, from the package registries only
# (crates.io, npm, Debian). Idempotent: when everything is in place it takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 --locked needs a newer rustc than this machine's
step() { printf '==> %s\n' "$*"; }

# The wasm-bindgen CLI must be exactly the library version the lockfile resolved.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wasm_bindgen_version" ] || { echo "wasm-bindgen not found in Cargo.lock" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo install TOOL at VERSION into the tools folder, unless that version is already there.
install_crate() {
  local crate=$1 bin=$2 version=$3; shift 3
  if "$CAIRN_TOOLS/bin/$bin" --version 2>/dev/null | grep -qw "$version"; then return; fi
  step "installing $crate $version (a few minutes, once)"
  CARGO_TARGET_DIR="$CAIRN_CACHE/tools-build" \
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$crate" --version "$version" --root "$CAIRN_TOOLS" "$@"
}
install_crate cargo-leptos cargo-leptos "$CARGO_LEPTOS_VERSION" --locked
# Its own lockfile pins a crate version the index lacks: resolve afresh, within our rustc.
CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
  install_crate wasm-bindgen-cli wasm-bindgen "$wasm_bindgen_version"
# A real S3 server over a local folder, for the snapshot repository's S3 tests.
CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
  install_crate s3s-fs s3s-fs 0.14.1 --features binary
installed=$("$CAIRN_TOOLS/bin/wasm-bindgen" --version | awk '{print $2}')
if [ "$installed" != "$wasm_bindgen_version" ]; then
  echo "wasm-bindgen CLI is $installed but Cargo.lock has $wasm_bindgen_version: they must match" >&2
  exit 1
fi

# Debian packages: Chromium for the browser tests, PostgreSQL for the store's contract tests.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
# curl and jq: the API script test drives the REST API the way users' scripts do.
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
# Python with venv (Debian splits it out): the test tools from PyPI live in a virtualenv.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (Tailwind, wasm-opt; Playwright), exactly as the committed lockfiles say.
# Re-installed only when a lockfile changed.
npm_ci() {
  local dir=$1 stamp="$1/node_modules/.cairn-lock-stamp"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return; fi
  step "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}
npm_ci .
npm_ci end2end

# PyPI: schemathesis for the API fuzzing, in its own virtualenv, as end2end/api/requirements.txt
# pins it. Re-installed only when that file changed.
venv="$CAIRN_CACHE/api-venv"
if [ ! -f "$venv/.cairn-stamp" ] || ! cmp -s end2end/api/requirements.txt "$venv/.cairn-stamp"; then
  step "installing the API fuzzer (schemathesis) from PyPI"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r end2end/api/requirements.txt
  cp end2end/api/requirements.txt "$venv/.cairn-stamp"
fi

step "toolchain ready: $(cargo leptos --version), wasm-bindgen $installed, $(tailwindcss --help 2>/dev/null | head -n1 | tr -d '≈ '), chromium $(chromium --version 2>/dev/null | awk '{print $2}'), $("$venv/bin/st" --version)"
