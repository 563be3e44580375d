/**
 * A Map that holds at most `max` entries: a set() that adds a key beyond that drops the oldest one (by
 * first insertion; setting a key that is there keeps its place, so delete it first to make it newest).
 * For memos of what Docker or peers said, which must not grow with every container ever seen.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}

/** A Set that holds at most `max` values: an add() beyond that drops the oldest one (by first insertion). */
export class BoundedSet<T> extends Set<T> {
  constructor(readonly max: number) {
    super();
  }

  override add(value: T): this {
    super.add(value);
    if (this.size > this.max) this.delete(this.values().next().value as T);
    return this;
  }
}
