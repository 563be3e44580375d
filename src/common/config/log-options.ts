/**
 * EXEC_CONTAINER_LOG_OPTS: options of the `local` or `json-file` log driver, `key=value` joined by
 * commas. Only the options that size and store the log are taken, each value checked here, because
 * Docker would refuse a bad one only at container create or start, failing every run while the service
 * looked healthy; and options that let Docker drop output (`mode=non-blocking`) or change what it
 * records (labels, env, tag) are refused: restart recovery replays the log and needs every byte of it.
 */
const CHECKS: Record<string, { test: RegExp; expect: string }> = {
  'max-size': { test: /^[1-9]\d*[kmg]?$/, expect: 'a size such as 20m (a number, then k, m or g)' },
  'max-file': { test: /^[1-9]\d*$/, expect: 'a whole number ≥ 1' },
  compress: { test: /^(true|false)$/, expect: 'true or false' },
};

/** The options as Docker's LogConfig.Config takes them; throws an Error naming the first bad entry. */
export function parseLogOptions(value: string): Record<string, string> {
  const options: Record<string, string> = {};
  if (value === '') return options;
  for (const entry of value.split(',')) {
    const eq = entry.indexOf('=');
    const [key, val] = eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
    const check = CHECKS[key];
    if (!check) throw new Error(`"${entry}": the options taken are ${Object.keys(CHECKS).join(', ')}`);
    if (val === undefined || !check.test.test(val)) throw new Error(`"${entry}": ${key} must be ${check.expect}`);
    if (key in options) throw new Error(`"${entry}": ${key} is given twice`);
    options[key] = val;
  }
  return options;
}

/** What is wrong with EXEC_CONTAINER_LOG_OPTS, as start-up problems (none for driver `none`, which ignores it). */
export function logOptionsProblems(config: { EXEC_CONTAINER_LOG_DRIVER: string; EXEC_CONTAINER_LOG_OPTS: string }): string[] {
  if (config.EXEC_CONTAINER_LOG_DRIVER === 'none') return [];
  try {
    parseLogOptions(config.EXEC_CONTAINER_LOG_OPTS);
    return [];
  } catch (err) {
    return [`EXEC_CONTAINER_LOG_OPTS=${JSON.stringify(config.EXEC_CONTAINER_LOG_OPTS)}: ${(err as Error).message}`];
  }
}
