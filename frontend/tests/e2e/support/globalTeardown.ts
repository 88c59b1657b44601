import { rmSync } from 'node:fs';

/** Removes the run's database and secret once the tests are done. */
export default function globalTeardown() {
  const runDir = process.env.E2E_RUN_DIR;
  if (runDir) rmSync(runDir, { recursive: true, force: true });
}
