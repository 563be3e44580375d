import { BoundedMap, BoundedSet } from './bounded';

describe('BoundedMap', () => {
  it('drops the oldest entry beyond max; setting a present key keeps its place', () => {
    const m = new BoundedMap<string, number>(3);
    m.set('a', 1).set('b', 2).set('c', 3);
    m.set('a', 10); // present: updated in place, still the oldest
    m.set('d', 4);
    expect([...m]).toEqual([
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ]);
    m.delete('c');
    m.set('b', 20); // a deleted-then-set key would be newest; b was not deleted, so it stays first
    m.set('e', 5);
    expect([...m.keys()]).toEqual(['b', 'd', 'e']);
    m.set('f', 6);
    expect([...m.keys()]).toEqual(['d', 'e', 'f']);
  });
});

describe('BoundedSet', () => {
  it('drops the oldest value beyond max; adding a present value changes nothing', () => {
    const s = new BoundedSet<number>(2);
    s.add(1).add(2).add(1).add(3);
    expect([...s]).toEqual([2, 3]);
  });
});
