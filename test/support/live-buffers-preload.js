// Preloaded into a service child by tests that bound its memory (EXEC_NODE_ARGS="--expose-gc
// --no-concurrent-array-buffer-sweeping --require <this file>", see scripts/serve.sh; without the second
// flag, Buffers a collection found dead are still counted until a background thread frees them). On
// SIGUSR2 it runs a full collection, then writes `<n> <bytes>` to $EXEC_TEST_LIVE_BUFFERS_FILE, n counting the answers and bytes the Buffer and
// ArrayBuffer memory still live (process.memoryUsage().arrayBuffers). The service never loads it.
'use strict';
const { renameSync, writeFileSync } = require('node:fs');
const { writeHeapSnapshot } = require('node:v8');

const file = process.env.EXEC_TEST_LIVE_BUFFERS_FILE;
let answers = 0;
if (file) {
  if (typeof global.gc !== 'function') throw new Error('live-buffers-preload.js needs --expose-gc');
  process.on('SIGUSR2', () => {
    global.gc();
    const bytes = process.memoryUsage().arrayBuffers;
    // For finding what holds them: a heap snapshot when more than EXEC_TEST_SNAPSHOT_OVER bytes are live.
    const over = Number(process.env.EXEC_TEST_SNAPSHOT_OVER || 0);
    if (over && bytes > over) writeHeapSnapshot(`${file}.${answers + 1}.heapsnapshot`);
    writeFileSync(`${file}.tmp`, `${++answers} ${bytes}`);
    renameSync(`${file}.tmp`, file);
  });
}
