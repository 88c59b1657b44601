import { defineConfig, devices } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { STORAGE_STATE } from './tests/e2e/support/constants';

// The real backend on a fresh SQLite file, seeded with the demo tenant, serving the built SPA.
const port = Number(process.env.E2E_PORT ?? 8788);
const baseURL = `http://127.0.0.1:${port}`;
const backendBin = resolve(process.env.AUDITLOG_BIN ?? '../target/debug/auditlog');
// One fresh directory per run for the database and the development JWT secret; workers inherit it.
process.env.E2E_RUN_DIR ??= mkdtempSync(join(tmpdir(), 'auditlog-e2e-'));
const runDir = process.env.E2E_RUN_DIR;

const chromium = {
  ...devices['Desktop Chrome'],
  viewport: { width: 1280, height: 800 },
  // A browser zone other than the tenant's (Europe/London) makes the zone switch observable.
  timezoneId: 'America/New_York',
  locale: 'en-GB',
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  },
};

export default defineConfig({
  testDir: 'tests/e2e',
  globalTeardown: './tests/e2e/support/globalTeardown.ts',
  // One worker: every sign-in is itself logged, and tests compare screens with live API results.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'setup', testMatch: /auth\.setup\.ts/, use: chromium },
    {
      name: 'e2e',
      testMatch: /\.spec\.ts$/,
      testIgnore: /screenshots\.spec\.ts/,
      dependencies: ['setup'],
      use: { ...chromium, storageState: STORAGE_STATE },
    },
    {
      name: 'screenshots',
      testMatch: /screenshots\.spec\.ts/,
      dependencies: ['setup'],
      use: { ...chromium, storageState: STORAGE_STATE },
    },
  ],
  webServer: {
    command: `"${backendBin}" demo`,
    url: `${baseURL}/readyz`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      AUDITLOG_DEV: '1',
      DATABASE_URL: `sqlite://${join(runDir, 'auditlog.sqlite')}`,
      DATA_DIR: runDir,
      BIND: `127.0.0.1:${port}`,
      STATIC_DIR: resolve('dist'),
      // Alert rules' webhooks go to a receiver the spec runs on loopback (development mode allows
      // it too; said here so the browser tests do not depend on that default).
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
  },
});
