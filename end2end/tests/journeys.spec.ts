import {
  admin,
  availableCluster,
  backupAvailable,
  call,
  expect,
  fillCluster,
  hourlyJob,
  hydrated,
  screenshot,
  startBackup,
  test,
} from './helpers';

// Where a redirect lands: the page, perhaps with the notice it shows (the live island takes it
// out of the address; without JavaScript it stays).
const CLUSTER_URL = /\/clusters\/[0-9a-v]{20}(\?notice=[^&]*)?$/;
const JOB_URL = /\/jobs\/[0-9a-v]{20}(\?notice=[^&]*)?$/;
const BACKUPS_URL = /\/backups(\?notice=[^&]*)?$/;

/** The label preview shows the minute; start a step that compares it well inside one. */
async function awayFromAMinuteBoundary() {
  const second = new Date().getUTCSeconds();
  if (second >= 50) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
}

test('a cluster created from the form becomes available on its page without a reload', async ({ page }, testInfo) => {
  await page.goto('/clusters');
  await hydrated(page);
  await page.getByRole('link', { name: 'Create cluster' }).click();
  await expect(page).toHaveURL(/\/clusters\/new$/);
  await page.getByLabel('Name').fill('orders');
  await page.getByLabel('Topology').selectOption('three-node-multi-zone');
  await page.getByLabel('Disk size (GB)').fill('10');
  await screenshot(page, testInfo, 'create-cluster');
  await page.getByRole('button', { name: 'Create cluster' }).click();

  await expect(page).toHaveURL(CLUSTER_URL);
  await expect(page.getByTestId('cluster-status').locator('[data-status="available"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('node-row')).toHaveCount(3);
  await expect(page.getByTestId('node-row').first()).toContainText('leader');
  await screenshot(page, testInfo, 'cluster');
});

test('a one-off backup is stored with the label its preview showed and becomes available by itself', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'ledger');
  await fillCluster(request, cluster, 4); // about two seconds of backing up at 2 MiB/s
  await page.goto('/clusters');
  await hydrated(page);
  await screenshot(page, testInfo, 'clusters-list');
  await awayFromAMinuteBoundary();
  await page.getByTestId('cluster-row').filter({ hasText: 'ledger' }).getByRole('link', { name: 'Create backup', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Backup label').fill('{cluster} #{index} at {datetime:utc}');
  // Enter in the label does not press the form's first button (a one-off backup by accident).
  await dialog.getByLabel('Backup label').press('Enter');
  await expect(page).toHaveURL(/\/clusters\/[0-9a-v]{20}\/backup$/);
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('label-preview')).toHaveText(/^ledger #1 at \d\d \w{3} \d\d \d\d:\d\d UTC$/);
  const preview = (await dialog.getByTestId('label-preview').textContent())!;
  await screenshot(page, testInfo, 'backup-dialog');
  await dialog.getByRole('button', { name: 'Create one-off backup' }).click();

  await expect(page).toHaveURL(BACKUPS_URL);
  await expect(page.getByTestId('toast')).toContainText(`Backup “${preview}” started.`);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const row = page.getByTestId('backup-row').filter({ hasText: preview });
  await expect(row.getByTestId('backup-description')).toHaveText(preview);
  await expect(row).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await screenshot(page, testInfo, 'backups');
});

test('restore shows every broken rule at once, then makes a new cluster that becomes available', async ({ page, request }, testInfo) => {
  const source = await availableCluster(request, 'billing', 10);
  const backup = await backupAvailable(request, (await startBackup(request, source.id, 'billing nightly')).id);
  await page.goto('/backups');
  await hydrated(page);
  await page.getByTestId('backup-row').filter({ hasText: 'billing nightly' }).getByRole('link', { name: 'Restore' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Restore billing nightly');
  await expect(page.getByLabel('Disk size (GB)')).toHaveValue('10');
  await screenshot(page, testInfo, 'restore');

  // The form offers only networks of the backup's region, and a disk of at least its size; a
  // stale form or a hand-made request can still ask for more, and the server says what is wrong.
  const network = page.getByLabel('Network');
  await page.locator('form').filter({ has: network }).evaluate((form: HTMLFormElement) => (form.noValidate = true));
  await network.evaluate((select: HTMLSelectElement) => {
    for (const option of Array.from(select.options)) option.disabled = false;
  });
  await page.getByLabel('Disk size (GB)').fill('9');
  await network.selectOption((await network.locator('option', { hasText: 'local-2' }).getAttribute('value'))!);
  await page.getByRole('button', { name: 'Restore into a new cluster' }).click();

  await expect(page.getByTestId('cluster-disk-error')).toContainText('10');
  await expect(page.getByTestId('cluster-network-error')).toContainText('local-1');
  await expect(page.getByTestId('form-error')).toContainText('2 fields need attention');
  await screenshot(page, testInfo, 'restore-errors');

  await page.getByLabel('Disk size (GB)').fill('12');
  await network.selectOption((await network.locator('option', { hasText: 'local-1' }).getAttribute('value'))!);
  await page.getByRole('button', { name: 'Restore into a new cluster' }).click();
  await expect(page).toHaveURL(CLUSTER_URL);
  expect(page.url()).not.toContain(source.id);
  await expect(page.getByTestId('cluster-status').locator('[data-status="available"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText(backup.id)).toBeVisible();
});

test('a schedule made in the two-step dialog runs now, succeeds, and its backup is grouped under the job', async ({ page, request }, testInfo) => {
  await availableCluster(request, 'inventory');
  await page.goto('/clusters');
  await hydrated(page);
  await page.getByTestId('cluster-row').filter({ hasText: 'inventory' }).getByRole('link', { name: 'Create backup', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Backup label').fill('{cluster} scheduled #{index}');
  // The keyboard stays in the dialog: Shift+Tab from its first field reaches its last button.
  await expect(dialog.getByLabel('Backup label')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.getByRole('button', { name: 'Create backup schedule ›' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Create backup schedule ›' }).click();
  // A schedule the server refuses comes back to this step, its error beside the field and the
  // label kept.
  await dialog.getByLabel('Or a cron schedule (UTC)').fill('* * * * *');
  await dialog.getByRole('button', { name: 'Create backup schedule', exact: true }).click();
  await expect(page).toHaveURL(/\/schedule\?description=.*__err=/);
  await hydrated(page);
  await expect(dialog.getByTestId('job-cron-error')).toContainText('minute');
  await expect(dialog.getByTestId('schedule-label-preview')).toHaveText('inventory scheduled #1');
  await dialog.getByLabel('Or a cron schedule (UTC)').fill('');
  await dialog.getByLabel('Description').fill('inventory every 6 hours');
  await dialog.getByLabel('Number of hours or days').fill('6');
  await dialog.getByLabel('Minute past the hour').fill('15');
  await expect(dialog.getByTestId('next-runs')).toContainText('every 6 hours at 15 minutes past');
  await expect(dialog.getByTestId('next-runs').locator('li')).toHaveCount(5);
  await screenshot(page, testInfo, 'schedule-dialog');
  await dialog.getByRole('button', { name: 'Create backup schedule', exact: true }).click();

  await expect(page).toHaveURL(JOB_URL);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('inventory every 6 hours');
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page.getByTestId('toast')).toContainText('Run started');
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('link', { name: 'History' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('history-row').first()).toBeVisible();
  await expect(page.getByTestId('history-row').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await screenshot(page, testInfo, 'job');

  await page.goto('/jobs');
  await expect(page.getByTestId('job-row')).toContainText('15 */6 * * *');
  await screenshot(page, testInfo, 'jobs');
  await page.goto('/backups');
  const group = page.getByTestId('job-group').filter({ hasText: 'inventory every 6 hours' });
  await expect(group.getByTestId('job-group-toggle')).toContainText('inventory every 6 hours - 1 backup - 1 available');
  await group.getByTestId('job-group-toggle').click();
  await expect(group.getByTestId('backup-row')).toHaveCount(1);
  await expect(group.getByTestId('backup-row')).toContainText('inventory scheduled #1');
});

test('a second backup of a busy cluster is refused, naming the backup that holds it', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'payments');
  await fillCluster(request, cluster, 32); // sixteen seconds of backing up at 2 MiB/s
  const first = await startBackup(request, cluster.id, 'first');
  await page.goto('/clusters');
  await hydrated(page);
  await page.getByTestId('cluster-row').filter({ hasText: 'payments' }).getByRole('link', { name: 'Create backup', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Create one-off backup' }).click();

  await expect(dialog.getByTestId('form-error')).toContainText(`is locked by backup ${first.id} (manual)`);
  await page.goto(`/clusters/${cluster.id}`);
  await expect(page.getByTestId('cluster-lock')).toContainText(first.id);
  await page.goto('/backups');
  await expect(page.getByTestId('backup-row').filter({ hasText: 'first' }).getByTestId('backup-progress')).toBeVisible();
});

test('deleting a job keeps its backups, listed under its name', async ({ page, request }) => {
  const cluster = await availableCluster(request, 'audit');
  const job = await call(request, 'jobs/create', {
    'form[cluster_id]': cluster.id,
    'form[label]': '{cluster} #{index}',
    'form[description]': 'audit daily',
    'form[every]': '1',
    'form[unit]': 'days',
    'form[minute]': '5',
    'form[cron]': '',
    'form[keep]': '3',
  });
  const run = await call(request, 'jobs/run', { id: job.id });
  await backupAvailable(request, run.linkedResource);

  await page.goto(`/jobs/${job.id}`);
  await hydrated(page);
  await page.getByText('Delete', { exact: true }).click();
  await page.getByRole('button', { name: 'Delete job' }).click();
  await expect(page.getByText('Deleted; its backups remain.').first()).toBeVisible();

  await page.goto('/backups');
  const group = page.getByTestId('job-group').filter({ hasText: 'audit daily' });
  await expect(group.getByTestId('job-group-toggle')).toContainText('audit daily - 1 backup - 1 available');
  await expect(group.getByRole('link', { name: 'deleted job' })).toBeVisible();
});

/** In the js-on project the @no-js journeys run with scripts: let the islands hydrate first. */
async function ready(page: any, testInfo: any) {
  if (testInfo.project.use.javaScriptEnabled !== false) await hydrated(page);
}

test('the one-off backup and restore forms work without JavaScript @no-js', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'plain');
  await page.goto(`/clusters/${cluster.id}/backup`);
  await ready(page, testInfo);
  await page.getByLabel('Backup label').fill('plain form #{index}');
  await page.getByRole('button', { name: 'Create one-off backup' }).click();
  await expect(page).toHaveURL(BACKUPS_URL);
  const row = page.getByTestId('backup-row').filter({ hasText: 'plain form #1' });
  await expect(row).toHaveCount(1);
  await backupAvailable(request, (await row.getAttribute('data-id'))!);

  await page.goto(`/backups/${await row.getAttribute('data-id')}/restore`);
  await page.getByLabel('Name').fill('plain restored');
  await page.getByRole('button', { name: 'Restore into a new cluster' }).click();
  await expect(page).toHaveURL(CLUSTER_URL);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('plain restored');
});

test('a schedule can be made without JavaScript, and a wrong one is named next to its field @no-js', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'nojs');
  await page.goto(`/clusters/${cluster.id}/schedule?description=${encodeURIComponent('{cluster} #{index}')}`);
  await ready(page, testInfo);
  await page.getByLabel('Description').fill('nojs weekly');
  await page.getByLabel('Or a cron schedule (UTC)').fill('* * * * *');
  await page.getByRole('button', { name: 'Create backup schedule', exact: true }).click();
  await expect(page.getByTestId('job-cron-error')).toContainText('minute');
  await ready(page, testInfo);

  await page.getByLabel('Description').fill('nojs weekly');
  await page.getByLabel('Or a cron schedule (UTC)').fill('0 12 * * 1');
  await page.getByRole('button', { name: 'Create backup schedule', exact: true }).click();
  await expect(page).toHaveURL(JOB_URL);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('nojs weekly');
});

test('every list and detail page renders complete on the server @no-js', async ({ page, request }, testInfo) => {
  const cluster = await availableCluster(request, 'static');
  const backup = await backupAvailable(request, (await startBackup(request, cluster.id, 'static one-off')).id);
  const job = await hourlyJob(request, cluster.id, 'static hourly');
  for (const [path, text] of [
    ['/clusters', 'static'],
    [`/clusters/${cluster.id}`, 'static one-off'],
    ['/backups', 'static one-off'],
    // Taken through the API with the admin's token: the backup says by whom.
    [`/backups/${backup.id}`, `by ${admin.email}`],
    ['/jobs', 'static hourly'],
    [`/jobs/${job.id}`, 'every hour at 00 minutes past'],
    [`/jobs/${job.id}?tab=history`, 'No runs yet.'],
  ]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await expect(page.getByText(text).first(), path).toBeVisible();
  }
  await page.goto(`/clusters/${cluster.id}`);
  await screenshot(page, testInfo, 'cluster-static');
});
