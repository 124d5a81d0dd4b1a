import { admin, expect, screenshot, test } from './helpers';

test('signing in takes you where you were going, and signing out ends the session', async ({ browser, cairn }, testInfo) => {
  const context = await browser.newContext({ baseURL: cairn.url, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto('/jobs');
  await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Cairn' })).toBeVisible();

  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toHaveText('The email or the password is wrong.');
  await expect(page.getByLabel('Email')).toHaveValue(admin.email);
  await screenshot(page, testInfo, 'login');

  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByTestId('signed-in')).toContainText(admin.email);
  await expect(page.getByTestId('signed-in')).toContainText('admin');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/clusters');
  await expect(page).toHaveURL(/\/login\?next=%2Fclusters$/);
  await context.close();
});

test('an API token made in the console is shown once and works with the REST API until revoked', async ({ page, request, cairn }, testInfo) => {
  await page.goto('/account/tokens');
  await expect(page.getByText('No tokens yet')).toBeVisible();
  await page.getByLabel('What is it for?').fill('CI backups');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('new-token-secret').inputValue();
  expect(secret).toMatch(/^cairn_rt_[0-9a-f]{64}$/);
  await expect(page.getByRole('cell', { name: 'CI backups' })).toBeVisible();
  await screenshot(page, testInfo, 'tokens');

  // Shown once: a reload no longer has it.
  await page.reload();
  await expect(page.getByTestId('new-token')).toHaveCount(0);

  const token = await request.post(`${cairn.url}/oauth/token`, {
    form: { grant_type: 'refresh_token', client_id: 'playwright', refresh_token: secret },
  });
  expect(token.ok()).toBeTruthy();
  const { access_token, token_type } = await token.json();
  expect(token_type).toBe('Bearer');
  const organizations = await request.get(`${cairn.url}/resources/v1/organizations`, {
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
  });
  expect(organizations.ok()).toBeTruthy();
  expect((await organizations.json()).organizations).toHaveLength(1);

  await page.getByText('Revoke', { exact: true }).click();
  await page.getByRole('button', { name: 'Revoke token' }).click();
  await expect(page.getByRole('cell', { name: 'revoked' })).toBeVisible();
  const refused = await request.post(`${cairn.url}/oauth/token`, {
    form: { grant_type: 'refresh_token', client_id: 'playwright', refresh_token: secret },
  });
  expect(refused.status()).toBe(400);
  const after = await request.get(`${cairn.url}/resources/v1/organizations`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  expect(after.status()).toBe(401);
});
