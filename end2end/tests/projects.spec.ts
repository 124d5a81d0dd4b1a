import { APIRequestContext, Page } from '@playwright/test';
import { admin, availableCluster, backupAvailable, Cairn, expect, hydrated, screenshot, startBackup, test } from './helpers';

/** A REST API access token of the signed-in admin, made the way a user makes one. */
async function accessToken(page: Page, request: APIRequestContext, cairn: Cairn): Promise<string> {
  await page.goto('/account/tokens');
  await page.getByLabel('What is it for?').fill('projects journey');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('new-token-secret').inputValue();
  const answer = await request.post(`${cairn.url}/oauth/token`, {
    form: { grant_type: 'refresh_token', client_id: 'playwright', refresh_token: secret },
  });
  expect(answer.ok()).toBeTruthy();
  return (await answer.json()).access_token;
}

type Projects = { organization: string; a: string; b: string };

/** Makes project "Billing" beside the default project, with a local-1 network of its own. */
async function secondProject(page: Page, request: APIRequestContext, cairn: Cairn): Promise<Projects> {
  const token = await accessToken(page, request, cairn);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const api = async (method: 'GET' | 'POST', path: string, data?: object) => {
    const answer = await request.fetch(`${cairn.url}${path}`, { method, headers, data });
    const body = await answer.json();
    expect(answer.ok(), `${method} ${path}: ${JSON.stringify(body)}`).toBeTruthy();
    return body;
  };
  const organization = (await api('GET', '/resources/v1/organizations')).organizations[0].id;
  const a = (await api('GET', `/resources/v1/organizations/${organization}/projects`)).projects[0].id;
  const b = (await api('POST', `/resources/v1/organizations/${organization}/projects`, { name: 'Billing' })).id;
  await api('POST', `/infra/v1/organizations/${organization}/projects/${b}/networks`, {
    provider: 'local',
    region: 'local-1',
    description: 'billing network',
  });
  return { organization, a, b };
}

async function ready(page: Page, testInfo: any) {
  if (testInfo.project.use.javaScriptEnabled !== false) await hydrated(page);
}

test('the switcher opens the same page in another project, and two tabs work in two projects', async ({ page, request, cairn, context }, testInfo) => {
  const { a, b } = await secondProject(page, request, cairn);
  await availableCluster(request, 'alpha');
  await page.goto('/clusters');
  await hydrated(page);
  await expect(page.getByTestId('cluster-row').filter({ hasText: 'alpha' })).toHaveCount(1);

  const switcher = page.getByTestId('project-switcher');
  await expect(switcher).toContainText('Cairn / Default project');
  await switcher.locator('summary').click();
  await screenshot(page, testInfo, 'project-switcher');
  await switcher.getByTestId('project-choice').filter({ hasText: 'Billing' }).click();
  await expect(page).toHaveURL(new RegExp(`/clusters\\?project=${b}$`));
  await expect(page.getByText('No clusters yet')).toBeVisible();
  await expect(page.getByTestId('project-switcher')).toContainText('Cairn / Billing');

  // The address names the project: every link keeps it, and another tab can be elsewhere.
  await page.getByRole('link', { name: 'Networks' }).click();
  await expect(page).toHaveURL(new RegExp(`/networks\\?project=${b}$`));
  await expect(page.getByText('billing network')).toBeVisible();
  await expect(page.getByText('local-1 network')).toHaveCount(0);
  const other = await context.newPage();
  await other.goto(`/clusters?project=${a}`);
  await expect(other.getByTestId('cluster-row').filter({ hasText: 'alpha' })).toHaveCount(1);
  await page.reload();
  await expect(page.getByText('billing network')).toBeVisible();

  // A project nobody gave you is refused, not shown.
  await page.goto('/clusters?project=c1ev3l5o0aeu6ojco7d0');
  await expect(page.getByRole('alert')).toContainText('project c1ev3l5o0aeu6ojco7d0 was not found');
});

test('a backup of one project restores into another, and the cluster says where it came from @no-js', async ({ page, request, cairn }, testInfo) => {
  const { a, b } = await secondProject(page, request, cairn);
  const source = await availableCluster(request, 'alpha', 10);
  const backup = await backupAvailable(request, (await startBackup(request, source.id, 'alpha nightly')).id);

  await page.goto(`/backups?project=${a}`);
  await ready(page, testInfo);
  await page.getByTestId('backup-row').filter({ hasText: 'alpha nightly' }).getByRole('link', { name: 'Restore' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Restore alpha nightly');
  const project = page.getByLabel('Project', { exact: true });
  await expect(project.locator('option:checked')).toHaveText('Default project (the backup\'s project)');

  // Choosing the project shows its networks (by itself with JavaScript; its button without).
  await project.selectOption(b);
  if (testInfo.project.use.javaScriptEnabled === false) {
    await page.getByRole('button', { name: 'Show its networks' }).click();
  }
  await expect(page).toHaveURL(new RegExp(`target=${b}`));
  const network = page.getByLabel('Network');
  await expect(network.locator('option', { hasText: 'billing network' })).toHaveCount(1);
  await expect(network.locator('option', { hasText: 'local-1 network' })).toHaveCount(0);
  await screenshot(page, testInfo, 'restore-into-another-project');

  await page.getByLabel('Name').fill('alpha in billing');
  await page.getByRole('button', { name: 'Restore into a new cluster' }).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/[0-9a-v]{20}\\?project=${b}`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('alpha in billing');
  await expect(page.getByTestId('restored-from')).toHaveText('restored from alpha nightly in Default project');
  await expect(page.getByText(backup.id).first()).toBeVisible();
  await expect
    .poll(async () => {
      await page.reload();
      return page.getByTestId('cluster-status').locator('[data-status="available"]').count();
    }, { timeout: 30_000 })
    .toBe(1);

  // It lives in Billing, not beside its backup.
  await page.goto(`/clusters?project=${b}`);
  await expect(page.getByTestId('cluster-row').filter({ hasText: 'alpha in billing' })).toHaveCount(1);
  await page.goto(`/clusters?project=${a}`);
  await expect(page.getByTestId('cluster-row').filter({ hasText: 'alpha in billing' })).toHaveCount(0);

  // Billing's audit says who restored it into Billing, and that it was done.
  await page.goto(`/audit?project=${b}&action=cluster.restore`);
  const restored = page.locator(`[data-testid=audit-row][data-action="cluster.restore"]`);
  await expect(restored).toHaveCount(1);
  await expect(restored).toHaveAttribute('data-actor', admin.email);
  await expect(restored).toHaveAttribute('data-result', 'done');
});
