#!/usr/bin/env bash
# Prints the size of the browser bundle as shipped: raw, gzip and brotli (what browsers fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
node -e '
const fs = require("fs"), zlib = require("zlib");
const kib = n => (n / 1024).toFixed(1) + " KiB";
for (const file of ["target/site/pkg/cairn.wasm", "target/site/pkg/cairn.js", "target/site/pkg/cairn.css"]) {
  const data = fs.readFileSync(file);
  const gzip = zlib.gzipSync(data, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`bundle: ${file.padEnd(28)} raw ${kib(data.length).padStart(10)}  gzip ${kib(gzip).padStart(10)}  brotli ${kib(brotli).padStart(10)}`);
}'
