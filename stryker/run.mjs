// npm run test:mutation [-- <folder>...] [stryker options, e.g. --incremental]: one Stryker run per
// folder, security and protocol when none is named. Reports land in reports/mutation/<folder>/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const named = args.filter((arg) => !arg.startsWith('-'));
const options = args.filter((arg) => arg.startsWith('-'));
const folders = named.length > 0 ? named : ['security', 'protocol'];
const unknown = folders.filter((folder) => !existsSync(new URL(`./${folder}.config.mjs`, import.meta.url)));
if (unknown.length > 0) {
  console.error(`No Stryker configuration for ${unknown.join(', ')}: see stryker/*.config.mjs.`);
  process.exit(2);
}
let failed = false;
for (const folder of folders) {
  const run = spawnSync('npx', ['stryker', 'run', `stryker/${folder}.config.mjs`, ...options], { stdio: 'inherit' });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
