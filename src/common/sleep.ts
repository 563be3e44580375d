/**
 * Resolves after `ms`. Through the global setTimeout, so that specs with jest's fake timers drive it
 * (node:timers/promises is not faked); `unref`: the wait does not keep the process alive.
 */
export function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}
