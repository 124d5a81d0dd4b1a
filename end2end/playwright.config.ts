import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The server under test: the release binary built by `make test` (scripts/test.sh sets
// CAIRN_BIN and CAIRN_SITE_ROOT), on a port and data dir of its own. These are chosen once, in
// the main process, and reach the workers through the environment they inherit.
const repo = path.resolve(__dirname, '..');
const bin = process.env.CAIRN_BIN ?? path.join(os.homedir(), '.cache/cairn/target/release/cairn');
const siteRoot = process.env.CAIRN_SITE_ROOT ?? path.join(repo, 'target/site');
process.env.CAIRN_E2E_PORT ??= String(20000 + Math.floor(Math.random() * 20000));
process.env.CAIRN_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));
const baseURL = `http://127.0.0.1:${process.env.CAIRN_E2E_PORT}`;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalTeardown: './global-teardown.ts',
  // Two cores: one browser at a time keeps timings sane.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download is not reachable here.
      executablePath: process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [
    { name: 'js-on', use: { javaScriptEnabled: true } },
    // Read-only pages must carry their content in the server-rendered HTML.
    { name: 'js-off', use: { javaScriptEnabled: false }, grep: /@no-js/ },
  ],
  webServer: {
    command: `"${bin}" serve`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      CAIRN_DATA_DIR: process.env.CAIRN_E2E_DATA_DIR,
      LEPTOS_SITE_ADDR: `127.0.0.1:${process.env.CAIRN_E2E_PORT}`,
      LEPTOS_SITE_ROOT: siteRoot,
      CAIRN_LOG: 'warn',
    },
  },
});
