import { availableCluster, backupAvailable, call, expect, fillCluster, hourlyJob, hydrated, screenshot, startBackup, test } from './helpers';

// The console is one page in the browser: moving around swaps the page's part, never the document.
test('clusters, a cluster, backups, a job and back again all happen in the same document', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'spa');
  await backupAvailable(request, (await startBackup(request, cluster.id, 'spa one-off')).id);
  await hourlyJob(request, cluster.id, 'spa hourly');
  await page.goto('/clusters');
  await hydrated(page);
  await page.evaluate(() => ((window as any).sameDocument = 'yes'));
  const same = () => page.evaluate(() => (window as any).sameDocument);

  // A click anywhere in a row opens it (here on its region, not its link).
  await page.getByTestId('cluster-row').filter({ hasText: 'spa' }).locator('td').nth(3).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/${cluster.id}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('spa');
  await expect(page).toHaveTitle('spa · Cairn');
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  expect(await same()).toBe('yes');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backups' }).click();
  await expect(page).toHaveURL(/\/backups$/);
  await expect(page.getByRole('link', { name: 'Backups' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('link', { name: 'Clusters', exact: true })).not.toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('backup-row').filter({ hasText: 'spa one-off' })).toBeVisible();
  expect(await same()).toBe('yes');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('link', { name: 'spa hourly' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('spa hourly');
  expect(await same()).toBe('yes');

  await page.goBack();
  await expect(page).toHaveURL(/\/jobs$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/backups$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Backups');
  await page.goForward();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Jobs');
  expect(await same()).toBe('yes');
});

test('the same journey works as plain pages without JavaScript @no-js', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'plain-nav');
  await page.goto('/clusters');
  await page.getByRole('link', { name: 'plain-nav' }).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/${cluster.id}$`));
  await page.getByRole('link', { name: 'Backups' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Backups');
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('plain-nav');
});

test('a disk cannot grow while a backup holds the cluster, and grows after it', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'growing');
  await fillCluster(request, cluster, 24); // twelve seconds of backing up at 2 MiB/s
  const backup = await startBackup(request, cluster.id, 'growing held');
  await page.goto(`/clusters/${cluster.id}`);
  await hydrated(page);
  const changes = page.getByTestId('cluster-changes');
  await changes.getByLabel('Disk size (GB)').fill('20');
  await changes.getByRole('button', { name: 'Expand disk' }).click();
  // Refused, naming the backup that holds the lock.
  await expect(page.getByTestId('form-error')).toContainText(`backup ${backup.id}`);
  expect((await call(request, 'backups/get', { id: backup.id })).status).toBe('creating');
  await backupAvailable(request, backup.id);
  await page.goto(`/clusters/${cluster.id}`);
  await changes.getByLabel('Disk size (GB)').fill('20');
  await changes.getByRole('button', { name: 'Expand disk' }).click();
  await expect(page.getByTestId('toast')).toContainText('growing to 20 GB');
  await expect(page.getByTestId('cluster-status').locator('[data-status="available"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('20 GB local-ssd')).toBeVisible();
  await screenshot(page, testInfo, 'cluster-changes');
});

test('a cluster is renamed and protected from its page, and protection refuses deletion', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'to-rename');
  await page.goto(`/clusters/${cluster.id}`);
  await hydrated(page);
  const changes = page.getByTestId('cluster-changes');
  await changes.getByLabel('Name').fill('renamed');
  await changes.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('renamed');
  await changes.getByRole('button', { name: 'Protect from deletion' }).click();
  await expect(page.getByTestId('protection-rule')).toContainText('cannot be deleted');
  await expect(page.getByRole('button', { name: 'Delete', exact: true })).toBeDisabled();
});

// A laptop's window: every list keeps its row actions in view, without scrolling sideways.
test('at 1280 × 720 the clusters, jobs and backups tables show their actions', async ({ page, request }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  const cluster = await availableCluster(request, 'a-cluster-with-a-long-enough-name');
  await backupAvailable(request, (await startBackup(request, cluster.id, 'a backup with a long label')).id);
  for (const path of ['/clusters', '/backups', '/jobs']) {
    await page.goto(path);
    const frames = page.locator('table');
    for (let i = 0; i < (await frames.count()); i++) {
      const fits = await frames.nth(i).evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth + 1);
      expect(fits, `${path}: table ${i} fits its frame`).toBe(true);
    }
  }
  await page.goto('/clusters');
  const action = page.getByTestId('cluster-row').first().getByRole('link', { name: 'Create backup', exact: true });
  await expect(action).toBeInViewport();
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(action).toBeInViewport();
});

test('a running backup is cancelled from its row: it ends cancelled, the lock is free, the next goes through', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'to-cancel');
  await fillCluster(request, cluster, 24); // twelve seconds of backing up at 2 MiB/s
  const running = await startBackup(request, cluster.id, 'to-cancel running');
  await page.goto('/backups');
  await hydrated(page);
  const row = page.locator(`[data-testid=backup-row][data-id="${running.id}"]`);
  await row.getByText('Cancel', { exact: true }).click();
  await row.getByRole('button', { name: 'Cancel backup' }).click();
  await expect(page.getByTestId('toast')).toContainText('was cancelled');
  const cancelled = await call(request, 'backups/get', { id: running.id });
  expect(cancelled.status).toBe('cancelled');
  expect(cancelled.failureReason).toContain('cancelled by');
  await expect(page.locator(`[data-testid=backup-row][data-id="${running.id}"]`)).toHaveAttribute('data-status', 'cancelled');
  const next = await startBackup(request, cluster.id, 'to-cancel next');
  expect((await backupAvailable(request, next.id)).status).toBe('available');
});

test('a job is edited on its page: its next runs follow the schedule as it is typed, a wrong one is named beside its field, then it saves', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'editable');
  const job = await hourlyJob(request, cluster.id, 'editable hourly');
  await page.goto(`/jobs/${job.id}`);
  await hydrated(page);
  const settings = page.getByTestId('job-settings');
  await expect(settings.getByTestId('edit-next-runs')).toContainText(':00 UTC');
  await settings.getByLabel('Schedule (cron, UTC)').fill('15 4 * * *');
  await expect(settings.getByTestId('edit-next-runs')).toContainText('04:15 UTC');
  await expect(settings.getByTestId('edit-next-runs').locator('li')).toHaveCount(5);
  await settings.getByLabel('Schedule (cron, UTC)').fill('often');
  await expect(settings.getByTestId('edit-next-runs')).toContainText('Fix the schedule');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.getByTestId('edit-schedule-error')).not.toBeEmpty();
  await settings.getByLabel('Description').fill('editable nightly');
  await settings.getByLabel('Schedule (cron, UTC)').fill('30 2 * * *');
  await settings.getByLabel('Backup label').fill('{cluster} nightly #{index}');
  await settings.getByLabel('Backups to keep').fill('7');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('toast')).toContainText('is saved');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('editable nightly');
  await expect(page.getByText('30 2 * * *').first()).toBeVisible();
  const saved = await call(request, 'jobs/detail', { id: job.id });
  expect(saved.overview.job.data).toMatchObject({ description: '{cluster} nightly #{index}', maxBackupCount: 7, clusterId: cluster.id });
});

test("the restore form is prefilled from the source cluster's shape as it was at backup time", async ({ page, request }) => {
  const networks = await call(request, 'networks/list', {});
  const created = await call(request, 'clusters/create', {
    'request[description]': 'shaped',
    'request[networkId]': networks.find((n: any) => n.region === 'local-1').id,
    'request[topology]': 'single-node',
    'request[instanceType]': 'm8',
    'request[diskSizeGb]': '9',
    'request[diskType]': 'local-ssd',
    'request[serverVersion]': '24.10',
    'request[projectionLevel]': 'user',
  });
  await expect.poll(async () => (await call(request, 'clusters/get', { id: created.id })).status, { timeout: 30_000 }).toBe('available');
  const backup = await backupAvailable(request, (await startBackup(request, created.id, 'shaped nightly')).id);
  await page.goto(`/backups/${backup.id}/restore`);
  await expect(page.getByLabel('Instance size')).toHaveValue('m8');
  await expect(page.getByLabel('Projections')).toHaveValue('user');
  await expect(page.getByLabel('Topology')).toHaveValue('single-node');
  await expect(page.getByLabel('Disk size (GB)')).toHaveValue('9');
});
