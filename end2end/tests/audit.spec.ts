import { admin, availableCluster, backupAvailable, expect, fillCluster, hydrated, startBackup, test } from './helpers';

const BACKUPS_URL = /\/backups(\?notice=[^&]*)?$/;

test('a backup made, cancelled and deleted in the console shows on the Audit page as done by who did it', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'audited');
  await fillCluster(request, cluster, 24); // twelve seconds of backing up at 2 MiB/s: time to cancel

  // Made from the backup dialog.
  await page.goto(`/clusters/${cluster.id}/backup`);
  await hydrated(page);
  await page.getByLabel('Backup label').fill('audited one-off');
  await page.getByRole('button', { name: 'Create one-off backup' }).click();
  await expect(page).toHaveURL(BACKUPS_URL);
  const row = page.getByTestId('backup-row').filter({ hasText: 'audited one-off' });
  await expect(row.getByTestId('backup-created-by')).toHaveText(`by ${admin.email}`);

  // Cancelled while it runs, then deleted.
  await row.getByText('Cancel', { exact: true }).click();
  await row.getByRole('button', { name: 'Cancel backup' }).click();
  await expect(page.getByTestId('toast')).toContainText('was cancelled');
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  await row.getByText('Delete', { exact: true }).click();
  await row.getByRole('button', { name: 'Delete backup' }).click();
  await expect(page.getByTestId('toast')).toContainText('is being deleted');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit');
  const entries = page.getByTestId('audit-row');
  // Newest first: the delete, the cancel, the backup, and the cluster made for it before.
  const mine = page.locator(`[data-testid=audit-row][data-actor="${admin.email}"]`);
  await expect(mine.nth(0)).toHaveAttribute('data-action', 'backup.delete');
  await expect(mine.nth(1)).toHaveAttribute('data-action', 'backup.cancel');
  await expect(mine.nth(2)).toHaveAttribute('data-action', 'backup.create');
  await expect(mine.nth(3)).toHaveAttribute('data-action', 'cluster.create');
  for (const n of [0, 1, 2]) {
    await expect(mine.nth(n)).toHaveAttribute('data-result', 'done');
    await expect(mine.nth(n)).toContainText(admin.email);
    await expect(mine.nth(n)).toContainText('audited one-off');
  }
  await expect(mine.nth(0)).toContainText('deleted a backup');
  await expect(mine.nth(1)).toContainText('cancelled a backup');
  await expect(mine.nth(2)).toContainText('created a backup');

  // The filter narrows to what this person did to backups.
  const filter = page.getByTestId('audit-filter');
  await filter.getByLabel('Person').fill(admin.email);
  await filter.getByLabel('Action').selectOption('backup');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/audit\?actor=ops%40example\.com&resource=&action=backup$/);
  await expect(entries).toHaveCount(3);
  await expect(entries.nth(0)).toHaveAttribute('data-action', 'backup.delete');
  await expect(entries.nth(2)).toHaveAttribute('data-action', 'backup.create');
});

/** In the js-on project the @no-js journeys run with scripts: let the islands hydrate first. */
async function ready(page: any, testInfo: any) {
  if (testInfo.project.use.javaScriptEnabled !== false) await hydrated(page);
}

test('the Audit page is filtered and paged with plain links and a GET form @no-js', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'plain audit');
  await backupAvailable(request, (await startBackup(request, cluster.id, 'plain audited')).id);
  await page.goto('/audit');
  await ready(page, testInfo);
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await expect(page.locator('[data-testid=audit-row][data-action="session.sign-in"]').first()).toContainText(admin.email);

  const filter = page.getByTestId('audit-filter');
  await filter.getByLabel('Action').selectOption('backup.create');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/audit\?actor=&resource=&action=backup\.create$/);
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('plain audited');
  await expect(filter.getByLabel('Action')).toHaveValue('backup.create');

  await filter.getByLabel('Resource').fill(cluster.id);
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('Nothing matches')).toBeVisible();
  await page.getByRole('link', { name: 'Clear' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(rows.first()).toBeVisible();
});
