import { JsonLines } from './json-lines';

function collect(limit = 1024) {
  const objects: unknown[] = [];
  const bad: string[] = [];
  const p = new JsonLines(
    (o) => objects.push(o),
    (line) => bad.push(line),
    limit,
  );
  return { p, objects, bad };
}

describe('JsonLines', () => {
  it('joins an object split across chunks, at every split point', () => {
    const text = '{"Action":"die","Actor":{"Attributes":{"exitCode":"143","name":"é✓"}}}\n{"Action":"destroy"}\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { p, objects, bad } = collect();
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      expect(bad).toEqual([]);
      expect(objects).toEqual([{ Action: 'die', Actor: { Attributes: { exitCode: '143', name: 'é✓' } } }, { Action: 'destroy' }]);
    }
  });

  it('splits several objects in one chunk, and a multi-byte character cut between chunks survives', () => {
    const { p, objects } = collect();
    const bytes = Buffer.from('{"a":1}\n{"b":"✓"}\n{"c":');
    const cut = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte character
    p.push(bytes.subarray(0, cut));
    p.push(bytes.subarray(cut));
    expect(objects).toEqual([{ a: 1 }, { b: '✓' }]);
    expect(p.buffered).toBe(5);
    p.push(Buffer.from('3}\n'));
    expect(objects).toEqual([{ a: 1 }, { b: '✓' }, { c: 3 }]);
    expect(p.buffered).toBe(0);
  });

  it('byte by byte', () => {
    const { p, objects } = collect();
    for (const b of Buffer.from('{"x":[1,2]}\r\n\n{"y":null}\n')) p.push(Buffer.from([b]));
    expect(objects).toEqual([{ x: [1, 2] }, { y: null }]);
  });

  it('reports a bad line and goes on; drops an endless line', () => {
    const { p, objects, bad } = collect(64);
    p.push(Buffer.from('not json\n{"ok":true}\n'));
    expect(bad).toEqual(['not json']);
    expect(objects).toEqual([{ ok: true }]);
    p.push(Buffer.alloc(100, 0x61)); // 100 bytes, no newline, limit 64
    expect(bad).toHaveLength(2);
    expect(p.buffered).toBe(0);
    p.push(Buffer.from('\n{"after":1}\n'));
    expect(objects).toEqual([{ ok: true }, { after: 1 }]);
  });

  it('does not keep a reference to the caller’s chunk', () => {
    const { p, objects } = collect();
    const chunk = Buffer.from('{"v":"abc');
    p.push(chunk);
    chunk.fill(0x7a);
    p.push(Buffer.from('"}\n'));
    expect(objects).toEqual([{ v: 'abc' }]);
  });
});
