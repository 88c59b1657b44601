// Fails when src/api/generated/openapi.ts is stale compared with ../openapi.yaml.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const committed = join(root, 'src/api/generated/openapi.ts');
const dir = mkdtempSync(join(tmpdir(), 'check-api-'));
const fresh = join(dir, 'openapi.ts');
try {
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/openapi-typescript/bin/cli.js'), join(root, '../openapi.yaml'), '-o', fresh],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } catch {
    console.error('Could not generate the client from ../openapi.yaml (see the errors above).');
    process.exit(1);
  }
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error('src/api/generated/openapi.ts is stale: run `npm run gen:api` and commit the result.');
    process.exit(1);
  }
  console.log('Generated API client is up to date with ../openapi.yaml.');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
