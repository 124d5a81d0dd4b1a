import fs from 'node:fs';

// The server is stopped by Playwright; its throwaway data dir goes with it.
export default async function globalTeardown() {
  const dir = process.env.CAIRN_E2E_DATA_DIR;
  if (dir && dir.includes('cairn-e2e-')) fs.rmSync(dir, { recursive: true, force: true });
}
