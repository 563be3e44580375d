/**
 * The oldest Node the service runs on (package.json `engines`): NestJS 12 loads through require(esm)
 * and src/main.ts sets a V8 flag older Nodes do not have. Imported first by src/main.ts, so that an
 * older Node stops here with a message instead of a stack trace from somewhere deeper.
 */
export const MIN_NODE = [24, 9] as const;

/** Whether `version` ("24.21.0" or "v20.20.2") is at least MIN_NODE. */
export function nodeIsSupported(version: string): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

if (!nodeIsSupported(process.versions.node)) {
  process.stderr.write(
    `exec-stream: Node ${process.versions.node} is too old; it needs Node >= ${MIN_NODE.join('.')} ` +
      `(the project's own is node_modules/.bin/node; start the service with scripts/serve.sh or npm start)\n`,
  );
  process.exit(2);
}
