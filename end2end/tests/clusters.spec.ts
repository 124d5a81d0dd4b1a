import { availableCluster, expect, hydrated, screenshot, test } from './helpers';

test('the console opens on the Clusters page @no-js', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/clusters$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Clusters' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Clusters' })).toHaveAttribute('aria-current', 'page');
});

test('the Clusters page says there are no clusters yet @no-js', async ({ page }, testInfo) => {
  await page.goto('/clusters');
  await expect(page.getByRole('heading', { name: 'No clusters yet' })).toBeVisible();
  await expect(page.getByTestId('cluster-row')).toHaveCount(0);
  await screenshot(page, testInfo, 'clusters');
});

test('every page of the navigation renders with its heading @no-js', async ({ page }) => {
  for (const [path, heading] of [
    ['/clusters', 'Clusters'],
    ['/backups', 'Backups'],
    ['/jobs', 'Jobs'],
    ['/networks', 'Networks'],
  ]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  }
});

test('an unknown address answers 404 with a way back @no-js', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to Clusters' }).click();
  await expect(page).toHaveURL(/\/clusters$/);
});

test.describe('in Paris', () => {
  test.use({ timezoneId: 'Europe/Paris' });

  test('times show in the browser zone, with UTC on hover', async ({ page, request }) => {
    await availableCluster(request, 'zoned');
    await page.goto('/clusters');
    await hydrated(page);
    const created = page.getByTestId('cluster-row').locator('time');
    await expect(created).toHaveText(/\(UTC\+0[12]:00\)$/);
    await expect(created).toHaveAttribute('title', /UTC$/);
  });
});
