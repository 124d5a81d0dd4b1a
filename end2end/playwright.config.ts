import { defineConfig } from '@playwright/test';

// Each test starts its own `cairn serve` on a fresh data directory (tests/helpers.ts), so
// journeys never see each other's clusters.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // Two cores: one browser at a time keeps timings sane.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
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
});
