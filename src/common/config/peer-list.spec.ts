import { parsePeerList, peerListProblem } from './peer-list';

describe('parsePeerList (EXEC_PEERS)', () => {
  it('maps each id to its host:port, in any host form', () => {
    expect(parsePeerList('es-a=10.0.0.1:50051, es-b=exec-b.ns.svc:7000,es-c=[fd00::1]:50051')).toEqual(
      new Map([
        ['es-a', '10.0.0.1:50051'],
        ['es-b', 'exec-b.ns.svc:7000'],
        ['es-c', '[fd00::1]:50051'],
      ]),
    );
  });

  it('takes replica ids that are JavaScript object keys (constructor) as ordinary ids', () => {
    expect([...parsePeerList('constructor=h:1,es-b=h:2')]).toEqual([
      ['constructor', 'h:1'],
      ['es-b', 'h:2'],
    ]);
  });

  it('reads an empty list as no peers and refuses an entry that is not id=host:port', () => {
    expect(parsePeerList('').size).toBe(0);
    expect(() => parsePeerList('es-a=h:1,es-b')).toThrow(/"es-b"/);
    expect(() => parsePeerList('ES=h:1')).toThrow(/"ES=h:1"/);
  });

  it('names the problem as loadConfig reports it', () => {
    expect(peerListProblem('es-a=h:1,es-a=h:2')).toBe('EXEC_PEERS names replica es-a twice');
    expect(peerListProblem('es-a=h:1,')).toBe('EXEC_PEERS entry "" is not id=host:port (id a DNS-1123 label: a-z, 0-9 and -, ≤ 63)');
    expect(peerListProblem('es-a=h:1')).toBeUndefined();
  });
});
