import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputLog } from './output-log';
import { SessionFiles } from './session-files';
import { TailBudget } from './tail-budget';
import { encodePlain } from './session-response-encoder';
import { TeeWriter } from './tee-writer';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('OutputLog, a chunk given in pieces (one copy into the wire message)', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'exec-stream-output-log-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('records the joined bytes on disk, reads them back checked, and keeps their plain message', async () => {
    const files = SessionFiles.create(join(root, 'sessions', 's1'), { id: 's1' });
    const log = new OutputLog(files, new TailBudget(1 << 20, 1 << 20));
    const tee = new TeeWriter(log);
    let told = 0;
    tee.addListener({ onRecorded: () => void told++ });
    const parts = [randomBytes(70_000), randomBytes(1), randomBytes(300)];
    const joined = Buffer.concat(parts);
    tee.writeParts('stdout', parts, joined.length);
    tee.write('stderr', Buffer.from('e'));
    expect([log.lastSequence, told]).toEqual([2, 2]);
    expect(sha(readFileSync(join(files.dir, 'stdout')))).toBe(sha(joined));
    const live = await log.get(1);
    expect(sha(live.data)).toBe(sha(joined));
    expect(live.plainMessage && sha(live.plainMessage)).toBe(sha(encodePlain('stdout', joined)));
    // From disk, through both checksums (the index record's crc is of the joined bytes).
    expect(sha((await files.readChunk(1)).data)).toBe(sha(joined));
    files.close();
  });
});
