import { APIRequestContext } from '@playwright/test';
import { availableCluster, backupAvailable, expect, hydrated, screenshot, test } from './helpers';

/** Starts a backup, again while the cluster's lock is still being let go by the last one. */
async function startBackup(request: APIRequestContext, clusterId: string, label: string) {
  for (let attempt = 0; ; attempt++) {
    const response = await request.post('/api/backups/create', {
      form: { cluster_id: clusterId, description: label },
      headers: { accept: 'application/json' },
    });
    const body = await response.json();
    if (response.ok()) return body;
    const locked = JSON.stringify(body).includes('is locked');
    expect(locked && attempt < 50, `backups/create: ${JSON.stringify(body)}`).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Lists that scale: 250 real backups (five clusters backing up side by side: a cluster takes
// one backup at a time), read 50 a page through the filter form and the "Next page" link,
// while another backup arrives between two pages.
test('250 backups are paged through with a filter, each seen exactly once', async ({ page, request }, testInfo) => {
  test.setTimeout(600_000);
  const clusters = await Promise.all([0, 1, 2, 3, 4].map((i) => availableCluster(request, `pg${i}`)));
  const made = new Set<string>();
  await Promise.all(
    clusters.map(async (cluster) => {
      for (let i = 0; i < 50; i++) {
        const backup = await startBackup(request, cluster.id, 'paged {cluster} #{index}');
        await backupAvailable(request, backup.id);
        made.add(backup.id);
      }
    }),
  );
  // Backups the filter leaves out.
  for (let i = 0; i < 3; i++) {
    await backupAvailable(request, (await startBackup(request, clusters[0].id, `skipped #${i}`)).id);
  }
  expect(made.size).toBe(250);

  await page.goto('/backups');
  await hydrated(page);
  const form = page.getByTestId('filter-form');
  await form.getByRole('searchbox', { name: 'Search' }).fill('PAGED');
  await form.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/[?&]q=PAGED/);

  const seen: string[] = [];
  for (let number = 1; ; number++) {
    const rows = page.getByTestId('backup-row');
    await expect(rows.first()).toBeVisible();
    const ids = await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-id')!));
    const labels = await page.getByTestId('backup-description').allTextContents();
    expect(labels.every((label) => label.startsWith('paged ')), labels.join(', ')).toBe(true);
    expect(ids.length).toBeLessThanOrEqual(50);
    seen.push(...ids);
    if (number === 1) await screenshot(page, testInfo, 'backups-paged');
    if (number === 2) {
      // A backup made between two pages: newer than the list's start, so never listed now.
      await backupAvailable(request, (await startBackup(request, clusters[1].id, 'paged late')).id);
      await expect(page.getByTestId('first-page')).toBeVisible();
    }
    const next = page.getByTestId('next-page');
    if ((await next.count()) === 0) break;
    const url = page.url();
    await next.click();
    await expect(page).not.toHaveURL(url);
    // The next page's rows, not the last ones still showing.
    await expect(page.getByTestId('backup-row').first()).not.toHaveAttribute('data-id', ids[0]);
    expect(page.url()).toContain('q=PAGED');
    expect(number).toBeLessThan(10);
  }
  expect(new Set(seen).size, 'no backup twice').toBe(seen.length);
  const missing = [...made].filter((id) => !seen.includes(id));
  expect(missing, 'every backup once').toEqual([]);
  expect(seen.length).toBe(250);

  // The first page is a link: the address carries the filter.
  await page.getByTestId('first-page').click();
  await expect(page).toHaveURL(/[?&]q=PAGED/);
  await expect(page).not.toHaveURL(/pageToken/);
  await expect(page.getByTestId('backup-row')).toHaveCount(50);
});
