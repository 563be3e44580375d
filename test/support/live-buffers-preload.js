// Preloaded into a service child by tests that bound its memory (EXEC_NODE_ARGS="--expose-gc --require
// <this file>", see scripts/serve.sh): on SIGUSR2 it runs a full collection, then writes
// `<n> <bytes>` to $EXEC_TEST_LIVE_BUFFERS_FILE, n counting the answers and bytes the Buffer and
// ArrayBuffer memory still live (process.memoryUsage().arrayBuffers). The service never loads it.
'use strict';
const { renameSync, writeFileSync } = require('node:fs');

const file = process.env.EXEC_TEST_LIVE_BUFFERS_FILE;
let answers = 0;
if (file) {
  if (typeof global.gc !== 'function') throw new Error('live-buffers-preload.js needs --expose-gc');
  process.on('SIGUSR2', () => {
    global.gc();
    writeFileSync(`${file}.tmp`, `${++answers} ${process.memoryUsage().arrayBuffers}`);
    renameSync(`${file}.tmp`, file);
  });
}
