import { availableCluster, backupAvailable, call, expect, fillCluster, hydrated, screenshot, startBackup, test } from './helpers';

test('the backups page says where backups are kept, encrypted, and to keep the key elsewhere', async ({ page }, testInfo) => {
  await page.goto('/backups');
  await hydrated(page);
  const storage = page.getByTestId('backup-storage');
  await expect(storage).toContainText('Where backups are kept');
  await expect(storage).toContainText('local-1');
  await expect(storage).toContainText('encrypted, key fingerprint');
  await expect(page.getByTestId('key-warning')).toContainText('repository.key');
  await expect(page.getByTestId('key-warning')).toContainText('somewhere other than this machine');
  await screenshot(page, testInfo, 'backup-storage');
});

test('a backup verified from its page says when, how long, and that every hash matched', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'audited');
  await fillCluster(request, cluster, 1);
  const backup = await startBackup(request, cluster.id, 'checked');
  await backupAvailable(request, backup.id);
  await page.goto(`/backups/${backup.id}`);
  await hydrated(page);
  await expect(page.getByTestId('backup-verification')).toHaveText('Never verified');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('backup-verification')).toContainText(/Verified (just now|\d+ min ago) \(took [\d.]+ s\): .* every hash matched/, {
    timeout: 30_000,
  });
  await screenshot(page, testInfo, 'backup-verified');
});

test('a restore test scheduled from the jobs page runs, proves the newest backup and cleans up', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'ledger');
  await fillCluster(request, cluster, 1);
  const backup = await startBackup(request, cluster.id, 'nightly');
  await backupAvailable(request, backup.id);
  await page.goto('/jobs');
  await hydrated(page);
  const form = page.getByTestId('new-restore-test');
  await form.locator('summary').click();
  await form.getByLabel('Description').fill('Ledger restore test');
  await form.getByLabel('Cluster').selectOption({ label: 'ledger' });
  await form.getByRole('button', { name: 'Schedule restore tests' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-v]{20}(\?notice=[^&]*)?$/);
  await expect(page.getByText('Restore test job')).toBeVisible();
  await page.getByRole('button', { name: 'Run now' }).click();
  await page.goto(page.url().replace(/\?.*$/, '') + '?tab=history');
  const run = page.getByTestId('history-row').first();
  await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(run).toContainText(`backup ${backup.id} restored into temporary cluster`);
  await expect(run).toContainText('as recorded at backup time');
  await screenshot(page, testInfo, 'restore-test');
  // The temporary cluster is gone from the list once deleted.
  await expect
    .poll(async () => (await call(request, 'clusters/list', {})).map((c: any) => c.description), { timeout: 30_000 })
    .not.toContain('Restore test of nightly');
});
