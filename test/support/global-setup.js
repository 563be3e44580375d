// Jest globalSetup of the e2e and reliability projects: builds the service and the client package once
// for the whole run (scripts/build.sh: tsc, incremental, and the output recorder), so that every
// suite's buildService() / buildCli() finds it done instead of building again. A failed build stops
// the run: no suite ever runs an older dist/ in place of the code under test.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  if (process.env.EXEC_STREAM_BUILT === '1') return;
  const root = join(__dirname, '..', '..');
  const t0 = Date.now();
  execFileSync('bash', [join(root, 'scripts', 'build.sh')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  process.stderr.write(`[global-setup] scripts/build.sh: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // Seen by every suite of this run (in band, or workers spawned after this).
  process.env.EXEC_STREAM_BUILT = '1';
};
