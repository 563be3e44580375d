/**
 * Caller-chosen names as keys (env names, labels, label filters): objects without a prototype, so that
 * every name, `toString`, `__proto__` and `constructor` included, is an ordinary key and nothing
 * inherited answers for a name the caller did not give.
 */
export type NameMap<V = string> = Record<string, V>;

/** A prototype-less copy of `value`'s own entries; a value that is not a plain object is returned as it is (for the validator to refuse). */
export function nameMap<V = string>(value: unknown): NameMap<V> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value as NameMap<V>;
  const map = Object.create(null) as NameMap<V>;
  for (const [k, v] of Object.entries(value)) map[k] = v as V;
  return map;
}

/** `map[name]` when `name` is the map's own key, else undefined (never an inherited member). */
export function ownValue<V>(map: NameMap<V> | undefined, name: string): V | undefined {
  return map && Object.hasOwn(map, name) ? map[name] : undefined;
}
