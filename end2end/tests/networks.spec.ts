import { expect, hydrated, screenshot, test } from './helpers';

test('the Networks page lists a network for each seeded region @no-js', async ({ page }, testInfo) => {
  await page.goto('/networks');
  await expect(page.getByRole('heading', { level: 1, name: 'Networks' })).toBeVisible();
  const rows = page.getByTestId('network-row');
  await expect(rows).toHaveCount(2);
  for (const region of ['local-1', 'local-2']) {
    const row = rows.filter({ hasText: `${region} network` });
    await expect(row).toHaveCount(1);
    await expect(row.getByRole('cell', { name: region, exact: true })).toBeVisible();
    await expect(row.getByRole('cell', { name: 'local', exact: true })).toBeVisible();
    await expect(row.getByText('available')).toBeVisible();
  }
  await expect(page.getByTestId('network-count')).toHaveText('2 networks');
  await expect(page).toHaveTitle('Networks · Cairn');
  await screenshot(page, testInfo, 'networks');
});

test('typing in the filter narrows the networks without a reload', async ({ page }) => {
  await page.goto('/networks');
  await hydrated(page);
  const filter = page.getByRole('searchbox', { name: 'Filter' });
  await filter.fill('local-2');
  await expect(page.getByTestId('network-row')).toHaveCount(1);
  await expect(page.getByTestId('network-row')).toContainText('local-2 network');
  await expect(page.getByTestId('network-count')).toHaveText('1 of 2 networks');
  await filter.fill('no such region');
  await expect(page.getByTestId('network-row')).toHaveCount(0);
  await filter.fill('');
  await expect(page.getByTestId('network-row')).toHaveCount(2);
});
