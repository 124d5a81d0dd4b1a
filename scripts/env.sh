# Sourced by the other scripts: where tools and build output live. Both are outside the
# clone so that they survive between clones (CI starts from a fresh clone every time).
CAIRN_CACHE="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
CAIRN_TOOLS="$CAIRN_CACHE/tools"
export CAIRN_CACHE CAIRN_TOOLS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CAIRN_CACHE/target}"
# cargo-leptos finds tailwindcss, wasm-opt and wasm-bindgen on PATH instead of downloading them.
export PATH="$CAIRN_TOOLS/bin:$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# No incremental compilation caches: on these shared machines they grew to 32 GB in a day of
# builds and filled the disk. Dependencies are never incremental anyway.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
