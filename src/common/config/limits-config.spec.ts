import { loadConfig } from './exec-config';
import { capabilityList } from './limits-config';

describe('limits settings', () => {
  it('defaults: a pids limit, Docker-default capabilities less NET_RAW, MKNOD, AUDIT_WRITE, SETFCAP', () => {
    const c = loadConfig({});
    expect(c.EXEC_DEFAULT_PIDS_LIMIT).toBe(1024);
    expect(c.EXEC_KILL_GRACE_MS).toBe(10_000);
    // Docker's default set (moby's oci/caps/defaults.go), written out here: a change to the source must show.
    const dockerDefault = [
      'CHOWN',
      'DAC_OVERRIDE',
      'FSETID',
      'FOWNER',
      'MKNOD',
      'NET_RAW',
      'SETGID',
      'SETUID',
      'SETFCAP',
      'SETPCAP',
      'NET_BIND_SERVICE',
      'SYS_CHROOT',
      'KILL',
      'AUDIT_WRITE',
    ];
    const dropped = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP'];
    expect(capabilityList(c.EXEC_CAPABILITIES).sort()).toEqual(dockerDefault.filter((cap) => !dropped.includes(cap)).sort());
    expect(capabilityList('cap_kill, chown')).toEqual(['KILL', 'CHOWN']);
  });

  it.each([
    [{ EXEC_MAX_MEMORY_BYTES: '1073741824' }, /EXEC_DEFAULT_MEMORY_BYTES=0: .*EXEC_MAX_MEMORY_BYTES/],
    [{ EXEC_DEFAULT_CPUS: '4', EXEC_MAX_CPUS: '2' }, /EXEC_DEFAULT_CPUS=4/],
    [{ EXEC_DEFAULT_PIDS_LIMIT: '0' }, /EXEC_DEFAULT_PIDS_LIMIT=0/],
    [{ EXEC_DEFAULT_MEMORY_BYTES: '1000' }, /EXEC_DEFAULT_MEMORY_BYTES=1000: Docker needs at least/],
    [{ EXEC_CAPABILITIES: 'KILL,SYS_ADMIN' }, /EXEC_CAPABILITIES=.*SYS_ADMIN not in Docker's default set/],
    [{ EXEC_DEFAULT_CPUS: 'many' }, /EXEC_DEFAULT_CPUS=/],
    [{ EXEC_READ_ONLY_ROOTFS: 'yes' }, /EXEC_READ_ONLY_ROOTFS=/],
    [{ EXEC_KILL_GRACE_MS: '-1' }, /EXEC_KILL_GRACE_MS=/],
  ])('refuses %j naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
