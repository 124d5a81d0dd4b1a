import { APIRequestContext, expect, Page, test as base, TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// The server under test: the release binary built by `make test` (scripts/test.sh sets
// CAIRN_BIN and CAIRN_SITE_ROOT).
const bin = process.env.CAIRN_BIN ?? path.join(os.homedir(), '.cache/cairn/target/release/cairn');
const siteRoot = process.env.CAIRN_SITE_ROOT ?? path.resolve(__dirname, '..', '..', 'target/site');

export type Cairn = { url: string; dataDir: string; session: string };

/** The first admin every test's Cairn is started with. */
export const admin = { email: 'ops@example.com', password: 'correct horse battery' };

/** Signs in as the browser's form does and returns the session cookie's value. */
export async function signIn(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password }),
    redirect: 'manual',
  });
  const cookie = (response.headers.get('set-cookie') ?? '').match(/cairn_session=([^;]+)/);
  if (!cookie) throw new Error(`sign-in as ${email} failed: ${response.status} ${response.headers.get('location')}`);
  return cookie[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function filesNamed(root: string, name: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) found.push(...filesNamed(full, name));
    else if (entry.name === name) found.push(full);
  }
  return found;
}

/**
 * Every test gets its own Cairn: a fresh data directory and a `cairn serve` on a free port,
 * stopped afterwards with the cluster nodes it started (nodes outlive Cairn on purpose).
 * Backups read at most 2 MiB/s, so a few MiB of events keep one busy for seconds.
 */
export const test = base.extend<{ cairn: Cairn }>({
  cairn: async ({}, use, testInfo) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));
    const port = await freePort();
    const logFile = path.join(dataDir, 'serve.log');
    const log = fs.openSync(logFile, 'a');
    const child = spawn(bin, ['serve'], {
      env: {
        ...process.env,
        CAIRN_DATA_DIR: dataDir,
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: siteRoot,
        CAIRN_LOG: 'warn',
        CAIRN_SNAPSHOT_READ_LIMIT: '2MiB',
        CAIRN_ADMIN_EMAIL: admin.email,
        CAIRN_ADMIN_PASSWORD: admin.password,
      },
      stdio: ['ignore', log, log],
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {}
      if (Date.now() > deadline) throw new Error(`cairn did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await signIn(url, admin.email, admin.password);
    await use({ url, dataDir, session });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    child.kill('SIGKILL');
    for (const pidFile of filesNamed(dataDir, 'node.pid')) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {}
    }
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('serve.log', { path: logFile, contentType: 'text/plain' });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  },
  baseURL: async ({ cairn }, use) => {
    await use(cairn.url);
  },
  // Pages and the server-function client start signed in as the admin.
  storageState: async ({ cairn }, use) => {
    await use({
      cookies: [
        {
          name: 'cairn_session',
          value: cairn.session,
          domain: '127.0.0.1',
          path: '/',
          expires: -1,
          httpOnly: true,
          secure: false,
          sameSite: 'Lax',
        },
      ],
      origins: [],
    });
  },
});

export { expect };

/** Waits until the WASM has hydrated the page; a click before that would do nothing. */
export async function hydrated(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}

/** Saves a full-page screenshot under end2end/screenshots/ so reviewers can look. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = path.join(__dirname, '..', 'screenshots', `${name}-${testInfo.project.name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

/** Calls a server function as the browser does, and returns its JSON answer. */
export async function call(request: APIRequestContext, endpoint: string, form: Record<string, string>) {
  const response = await request.post(`/api/${endpoint}`, { form, headers: { accept: 'application/json' } });
  const body = await response.json();
  expect(response.ok(), `${endpoint}: ${JSON.stringify(body)}`).toBeTruthy();
  return body;
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A cluster made through the API (for journeys about something else), waited until available. */
export async function availableCluster(request: APIRequestContext, name: string, diskGb = 8, region = 'local-1') {
  const networks = await call(request, 'networks/list', {});
  const network = networks.find((n: any) => n.region === region);
  const created = await call(request, 'clusters/create', {
    'request[description]': name,
    'request[networkId]': network.id,
    'request[topology]': 'single-node',
    'request[instanceType]': 'c4',
    'request[diskSizeGb]': String(diskGb),
    'request[diskType]': 'local-ssd',
    'request[serverVersion]': '24.10',
    'request[projectionLevel]': 'system',
  });
  return eventually(
    `cluster ${name}`,
    () => call(request, 'clusters/get', { id: created.id }),
    (c) => c.status === 'available',
  );
}

/** A job backing up `clusterId` every hour, keeping 2, labelled with the cluster's name. */
export async function hourlyJob(request: APIRequestContext, clusterId: string, description: string) {
  return call(request, 'jobs/create', {
    'form[cluster_id]': clusterId,
    'form[label]': '{cluster}',
    'form[description]': description,
    'form[every]': '1',
    'form[unit]': 'hours',
    'form[minute]': '0',
    'form[cron]': '',
    'form[keep]': '2',
  });
}

/** Starts a one-off backup through the API. */
export async function startBackup(request: APIRequestContext, clusterId: string, label: string) {
  return call(request, 'backups/create', { cluster_id: clusterId, description: label });
}

export async function backupAvailable(request: APIRequestContext, id: string) {
  return eventually(
    `backup ${id}`,
    () => call(request, 'backups/get', { id }),
    (b) => b.status === 'available',
  );
}

/** Appends `mebibytes` MiB of hard-to-compress events to the cluster's leader, directly. */
export async function fillCluster(request: APIRequestContext, cluster: any, mebibytes: number) {
  const node = cluster.addresses.tcp[0];
  let seed = 7;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let request_ = 0; request_ < mebibytes; request_++) {
    const events = [];
    for (let i = 0; i < 16; i++) {
      let payload = '';
      for (let c = 0; c < 64 * 1024; c++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        payload += alphabet[seed % 64];
      }
      events.push({ eventId: `e-${request_}-${i}`, eventType: 'Blob', data: { payload } });
    }
    const response = await request.post(`http://${node}/streams/blobs`, { data: events });
    expect(response.status()).toBe(201);
  }
}
