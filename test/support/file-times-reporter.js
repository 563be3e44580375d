// Jest reporter: after each run, the ten slowest test files and the sum of all files' times (what
// docs/TOOLCHAIN.md records per pass). With TEST_TIMES_FILE set, every file's time is appended to that
// file as `seconds<TAB>path` lines, for a closer look at where a run's time goes.
const { appendFileSync } = require('node:fs');
const { relative } = require('node:path');

class FileTimesReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((r) => ({ file: relative(this.rootDir, r.testFilePath), s: (r.perfStats.end - r.perfStats.start) / 1000 }))
      .filter((f) => Number.isFinite(f.s) && f.s >= 0)
      .sort((a, b) => b.s - a.s);
    if (files.length < 2) return;
    const sum = files.reduce((n, f) => n + f.s, 0);
    const lines = files.slice(0, 10).map((f) => `  ${f.s.toFixed(1).padStart(7)} s  ${f.file}`);
    process.stderr.write(`[test] ${files.length} files, ${sum.toFixed(0)} s of file time; the slowest ten:\n${lines.join('\n')}\n`);
    if (process.env.TEST_TIMES_FILE) {
      appendFileSync(process.env.TEST_TIMES_FILE, files.map((f) => `${f.s.toFixed(1)}\t${f.file}\n`).join(''));
    }
  }
}

module.exports = FileTimesReporter;
