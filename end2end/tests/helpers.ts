import { expect, Page, TestInfo } from '@playwright/test';
import path from 'node:path';

/** Waits until the WASM has hydrated the page; a click before that would do nothing. */
export async function hydrated(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}

/** Saves a full-page screenshot under end2end/screenshots/ so reviewers can look. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = path.join(__dirname, '..', 'screenshots', `${name}-${testInfo.project.name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}
