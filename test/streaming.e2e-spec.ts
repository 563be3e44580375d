import { startTestServer, BASE_IMAGE, type TestServer } from './support/server';
import { docker, sha256, sleep } from './support/helpers';
import type { ExecSession } from '../src/common/client';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

/** Output written by the container along with its own sha256 of it on stderr: nothing here is assumed. */
const SELF_HASHED = (bytes: number) =>
  `head -c ${bytes} /dev/urandom > /tmp/blob && sha256sum /tmp/blob | cut -d' ' -f1 >&2 && cat /tmp/blob`;

async function drainHash(s: ExecSession): Promise<{ sha: string; bytes: number }> {
  const h = require('node:crypto').createHash('sha256');
  let bytes = 0;
  for await (const p of s.output()) {
    if (p.stream === 'stdout') {
      h.update(p.data);
      bytes += p.data.length;
    }
  }
  return { sha: h.digest('hex'), bytes };
}

describe('one client', () => {
  it('keeps stdout and stderr apart, byte-exact, including non-UTF-8 bytes', async () => {
    const s = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', "printf 'a\\377\\376\\000b\\n'; printf '\\200\\201err' >&2; printf 'tail'"],
    });
    const r = await s.collect();
    expect(r.stdout).toEqual(Buffer.from([0x61, 0xff, 0xfe, 0x00, 0x62, 0x0a, ...Buffer.from('tail')]));
    expect(r.stderr).toEqual(Buffer.from([0x80, 0x81, ...Buffer.from('err')]));
    expect(r.exitCode).toBe(0);
  });

  it('delivers 50 MB byte-exact (sha256 computed inside the container)', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', SELF_HASHED(50 * 1024 * 1024)] });
    const r = await s.collect();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(50 * 1024 * 1024);
    expect(sha256(r.stdout)).toBe(r.stderr.toString().trim());
  });

  it.each([
    ['exit 0', 0],
    ['exit 1', 1],
    ['exit 42', 42],
  ])('reports the exit code of `%s` as %d', async (script, code) => {
    const r = await server.client.run(BASE_IMAGE, { command: ['sh', '-c', script] }).collect();
    expect(r.exitCode).toBe(code);
  });

  it.each([
    ['KILL', 137],
    ['TERM', 143], // a plain `sleep` dies of it: Docker's init (pid 1) forwards it
  ])('reports 128 + n for a container stopped with SIG%s (%d)', async (signal, code) => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; sleep 60'] });
    const { containerId } = await s.ready;
    const out = s.output();
    expect((await out.next()).value?.data.toString()).toBe('up\n');
    docker('kill', '--signal', signal, containerId);
    for await (const _ of out); // eslint-disable-line @typescript-eslint/no-unused-vars
    expect(await s.exit).toBe(code);
  });

  it('reports 128 + n for an exec whose process a signal killed', async () => {
    const main = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await main.ready;
    const term = await server.client.exec(containerId, { command: ['sh', '-c', 'echo x; kill -TERM $$; echo never'] }).collect();
    expect(term.stdout.toString()).toBe('x\n');
    expect(term.exitCode).toBe(143);
    main.cancel();
  });

  it('keeps the complete stdout and stderr in the session files', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done'] });
    const ready = await s.ready;
    await s.wait();
    const { readFileSync } = await import('node:fs');
    const dir = `${server.dataDir}/sessions/${ready.sessionId}`;
    expect(readFileSync(`${dir}/stdout`, 'utf8')).toBe('out1\nout2\nout3\n');
    expect(readFileSync(`${dir}/stderr`, 'utf8')).toBe('err1\nerr2\nerr3\n');
    expect(JSON.parse(readFileSync(`${dir}/exit.json`, 'utf8')).exitCode).toBe(0);
  });
});

describe('exec in a running container', () => {
  it('runs a command in the container of a run session, with its own output and exit code', async () => {
    const main = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo started; sleep 30'] });
    const { containerId } = await main.ready;
    const r = await server.client.exec(containerId, { command: ['sh', '-c', 'echo in-exec; echo oops >&2; exit 3'], env: { A: 'b' } }).collect();
    expect(r).toEqual({ stdout: Buffer.from('in-exec\n'), stderr: Buffer.from('oops\n'), exitCode: 3 });
    const env = await server.client.exec(containerId, { command: ['sh', '-c', 'echo $GREETING; pwd'], env: { GREETING: 'hi' }, workingDir: '/tmp' }).collect();
    expect(env.stdout.toString()).toBe('hi\n/tmp\n');
    main.cancel();
  });
});

describe('many clients', () => {
  it('gives five clients identical bytes; one leaving midway affects no one', async () => {
    const first = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', `i=0; while [ $i -lt 40 ]; do head -c 262144 /dev/urandom; i=$((i+1)); usleep 20000; done`],
    });
    const { sessionId } = await first.ready;
    const others = [1, 2, 3, 4].map(() => server.client.attach({ sessionId }));
    const leaver = others[3];
    const leaverGot = (async () => {
      let n = 0;
      for await (const p of leaver.output()) {
        n += p.data.length;
        if (n > 1024 * 1024) {
          leaver.cancel();
          break;
        }
      }
      return n;
    })();
    const results = await Promise.all([first, ...others.slice(0, 3)].map(drainHash));
    const codes = await Promise.all([first, ...others.slice(0, 3)].map((s) => s.exit));
    expect(await leaverGot).toBeGreaterThan(1024 * 1024);
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(results[0].bytes).toBe(40 * 262144);
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it('a stalled client never holds the container back; it then catches up exactly', async () => {
    const total = 100 * 1024 * 1024;
    const reader = server.client.run(BASE_IMAGE, { command: ['sh', '-c', SELF_HASHED(total)] });
    const { sessionId } = await reader.ready;
    const stalled = server.client.attach({ sessionId }); // not read from until the container is done
    const readerResult = await reader.collect();
    expect(readerResult.exitCode).toBe(0);
    const expected = readerResult.stderr.toString().trim();
    expect(sha256(readerResult.stdout)).toBe(expected);
    // The run ended while the stalled client had consumed nothing: the container did not wait for it.
    await sleep(2000);
    const late = await stalled.collect();
    expect(late.stdout.length).toBe(total);
    expect(sha256(late.stdout)).toBe(expected);
    expect(late.exitCode).toBe(0);
  });

  it('a client attaching after the exit gets the whole output and the exit code', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo one; echo two >&2; exit 7'] });
    const { sessionId, containerId } = await s.ready;
    expect(await s.wait()).toBe(7);
    const bySession = await server.client.attach({ sessionId }).collect();
    expect(bySession).toEqual({ stdout: Buffer.from('one\n'), stderr: Buffer.from('two\n'), exitCode: 7 });
    const byContainer = await server.client.attach({ containerId }).collect();
    expect(byContainer).toEqual(bySession);
  });
});
