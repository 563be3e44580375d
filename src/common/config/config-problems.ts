/** A start-up check as loadConfig lists its problems: none when `check` returns, else its Error's message after `prefix`. */
export function problemsOf(check: () => unknown, prefix = ''): string[] {
  try {
    check();
    return [];
  } catch (err) {
    return [`${prefix}${(err as Error).message}`];
  }
}
