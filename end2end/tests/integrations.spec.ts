import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { expect, screenshot, test } from './helpers';

/** A webhook receiver on loopback that records what it gets. */
async function receiver() {
  const got: { signature: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      got.push({ signature: String(req.headers['x-cairn-signature'] ?? ''), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => server.close() };
}

test('a webhook integration is added with its fields checked, and a test message arrives signed', async ({ page }, testInfo) => {
  const hook = await receiver();
  const secret = 'whsec_0123456789abcdef';
  await page.goto('/integrations');
  await expect(page.getByText('No integrations yet')).toBeVisible();

  await page.getByLabel('Description').fill('ops hook');
  await page.getByLabel('Address', { exact: true }).fill('not an address');
  await page.getByLabel('Signing secret').fill('short');
  await page.getByRole('button', { name: 'Add integration' }).click();
  await expect(page.getByTestId('integration-url-error')).toContainText('http://');
  await expect(page.getByTestId('integration-secret-error')).toContainText('at least 16 characters');

  await page.getByLabel('Description').fill('ops hook');
  await page.getByLabel('Address', { exact: true }).fill(hook.url);
  await page.getByLabel('Signing secret').fill(secret);
  await page.getByRole('button', { name: 'Add integration' }).click();
  await expect(page).toHaveURL(/\/integrations\/[0-9a-v]{20}/);
  await expect(page.getByText('••••cdef')).toBeVisible();
  await expect(page.getByText(secret)).toHaveCount(0);

  await page.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByText('Test message delivered.')).toBeVisible();
  await expect(page.getByTestId('delivery-log')).toContainText('Test message for “ops hook”');
  expect(hook.got).toHaveLength(1);
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(hook.got[0].body).digest('hex');
  expect(hook.got[0].signature).toBe(expected);
  expect(JSON.parse(hook.got[0].body).category).toBe('test');
  await screenshot(page, testInfo, 'integration');

  await page.goto('/integrations');
  await expect(page.getByRole('link', { name: 'ops hook' })).toBeVisible();
  // Test messages live in their integration's log, not among the project's events.
  await page.goto('/events');
  await expect(page.getByText('Nothing has happened yet')).toBeVisible();
  hook.close();
});
