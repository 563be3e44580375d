/**
 * One instance per service configuration, made on first use: whoever asks with the same config object
 * gets the same instance; another config object (a second service in one process, as the tests run
 * them) gets its own.
 */
export function perConfig<C extends object, T>(make: (config: C) => T): (config: C) => T {
  const made = new WeakMap<C, T>();
  return (config) => {
    if (!made.has(config)) made.set(config, make(config));
    return made.get(config) as T;
  };
}
