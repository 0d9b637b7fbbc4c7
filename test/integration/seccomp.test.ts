// The seccomp filter on real containers: docker's default profile, compiled by the policy core
// and loaded by the launcher, refuses what docker refuses (EPERM); `--security-opt
// seccomp=unconfined` and a profile file change that. Calls are made by python3's ctypes
// inside the container (the host image), so each test names the exact syscall and arguments.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, removeAllContainers, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });
const files = suiteDir('seccomp');

const EPERM = 1;
const NR = { getppid: 110, personality: 135, keyctl: 250, unshare: 272, mount: 165 };
const CLONE_NEWUTS = 0x04000000;
const READ_IMPLIES_EXEC = 0x0400000;
const KEYCTL_GET_KEYRING_ID = 0;
const KEY_SPEC_SESSION_KEYRING = -3;

/** Each call as `nr args…`; prints `result errno` per call. */
function calls(extra: string[], list: number[][]): { status: number | null; results: [number, number][]; stderr: string } {
  const program = [
    'import ctypes',
    'libc = ctypes.CDLL(None, use_errno=True)',
    `for c in ${JSON.stringify(list)}:`,
    '    ctypes.set_errno(0)',
    '    r = libc.syscall(*[ctypes.c_long(a) for a in c])',
    '    print(r, ctypes.get_errno())',
  ].join('\n');
  const r = husk(root, ['run', '--network', 'none', ...extra, 'host', 'python3', '-c', program]);
  const results = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]);
  return { status: r.status, results, stderr: r.stderr };
}

function seccompMode(extra: string[]): string {
  const r = husk(root, ['run', '--network', 'none', ...extra, 'host', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status']);
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

describe("docker's default profile, on every husk run", () => {
  it('puts the container in filter mode', () => {
    expect(seccompMode([])).toBe('Seccomp:\t2');
  });

  it('refuses unshare, keyctl, mount and a personality docker blocks with EPERM', () => {
    const r = calls([], [[NR.unshare, CLONE_NEWUTS], [NR.keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0], [NR.mount, 0, 0, 0, 0, 0], [NR.personality, READ_IMPLIES_EXEC], [NR.personality, 0xffffffff]]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.results.slice(0, 4)).toEqual([[-1, EPERM], [-1, EPERM], [-1, EPERM], [-1, EPERM]]);
    expect(r.results[4][0]).toBeGreaterThanOrEqual(0); // the query docker allows
  });
});

describe('--security-opt seccomp=', () => {
  it('unconfined: no filter, and what the profile refused reaches the kernel', () => {
    expect(seccompMode(['--security-opt', 'seccomp=unconfined'])).toBe('Seccomp:\t0');
    const r = calls(['--security-opt', 'seccomp=unconfined'], [[NR.keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0], [NR.personality, READ_IMPLIES_EXEC]]);
    expect(r.status).toBe(0);
    expect(r.results[0]).not.toEqual([-1, EPERM]); // a keyring id (or ENOKEY/EACCES): the kernel answered
    expect(r.results[1][0]).toBeGreaterThanOrEqual(0);
  });

  it('FILE: an OCI profile with errnoRet and an argument comparison', () => {
    const profile = join(files, 'oci.json');
    writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: READ_IMPLIES_EXEC, valueTwo: READ_IMPLIES_EXEC, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    }));
    const r = calls(['--security-opt', `seccomp=${profile}`], [[NR.getppid], [NR.personality, READ_IMPLIES_EXEC], [NR.personality, 0]]);
    expect(r.stderr).toBe('');
    expect(r.results[0]).toEqual([-1, 42]);
    expect(r.results[1]).toEqual([-1, 13]);
    expect(r.results[2][0]).toBeGreaterThanOrEqual(0);
  });

  it('a profile with an unknown action is one line naming the field, exit 125, nothing run', () => {
    const profile = join(files, 'bad.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['write'], action: 'SCMP_ACT_EXPLODE' }] }));
    const r = husk(root, ['run', '--network', 'none', '--security-opt', `seccomp=${profile}`, 'host', 'touch', '/tmp/never']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('husk: seccomp: syscalls[1].action: unknown action "SCMP_ACT_EXPLODE"\n');
    const missing = husk(root, ['run', '--network', 'none', '--security-opt', `seccomp=${join(files, 'none.json')}`, 'host', 'true']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/^husk: seccomp profile .*none\.json: no such file\n$/);
  });

  it('husk run --security-opt seccomp=FILE with NOTIFY is refused: it has no agent', () => {
    const profile = join(files, 'notify.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }));
    const r = husk(root, ['run', '--network', 'none', '--security-opt', `seccomp=${profile}`, 'host', 'true']);
    expect(r.stderr).toBe('husk: seccomp: SCMP_ACT_NOTIFY needs a seccomp agent\'s socket to send the listener to (OCI linux.seccomp.listenerPath, with husk-runc); husk run has none\n');
    expect(r.status).toBe(125);
  });
  it('husk plan shows the filter, and no filter when unconfined', () => {
    const plan = husk(root, ['plan', '--network', 'none', 'host', 'true']);
    expect(plan.stdout).toMatch(/container {2}load a seccomp filter of \d+ BPF instructions/);
    const none = husk(root, ['plan', '--network', 'none', '--security-opt', 'seccomp=unconfined', 'host', 'true']);
    expect(none.status).toBe(0);
    expect(none.stdout).not.toMatch(/seccomp/);
  });
});

describe('capabilities, and the filter following them', () => {
  const status = (extra: string[]) => {
    const r = husk(root, ['run', '--network', 'none', ...extra, 'host', 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status']);
    expect(r.stderr).toBe('');
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(':\t')));
  };

  it('--cap-drop ALL --cap-add CHOWN leaves exactly CAP_CHOWN', () => {
    expect(status(['--cap-drop', 'ALL', '--cap-add', 'CHOWN']).CapEff).toBe('0000000000000001');
    expect(status(['--cap-drop', 'chown']).CapEff).toBe('00000000a80425fa');
  });

  it('--cap-add SYS_ADMIN lets unshare and mount through the filter, as docker\'s profile says', () => {
    const r = calls(['--cap-add', 'SYS_ADMIN'], [[NR.unshare, CLONE_NEWUTS], [NR.personality, READ_IMPLIES_EXEC]]);
    expect(r.results[0]).toEqual([0, 0]);
    expect(r.results[1]).toEqual([-1, EPERM]); // the rest of the profile stays
  });

  it('--privileged: every capability husk holds, no filter, no no_new_privs', () => {
    const s = status(['--privileged']);
    const own = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(s.CapEff).toBe(own);
    expect(s.Seccomp).toBe('0');
    expect(s.NoNewPrivs).toBe('0');
  });

  it('a capability husk lacks, or none by that name, is one line and exit 125', () => {
    const lacking = husk(root, ['run', '--network', 'none', '--cap-add', 'SYS_RESOURCE', 'host', 'true']); // root here lacks it (DESIGN.md)
    expect(lacking.status).toBe(125);
    expect(lacking.stderr).toBe('husk: cap-add: CAP_SYS_RESOURCE: husk does not hold it here (its capability bounding set lacks it), so no container it starts can\n');
    const unknown = husk(root, ['run', '--network', 'none', '--cap-drop', 'NOPE', 'host', 'true']);
    expect(unknown.stderr).toBe('husk: cap-drop: unknown capability "NOPE"\n');
    expect(unknown.status).toBe(125);
  });
});

describe('husk exec runs under the container\'s filter and capabilities', () => {
  it('a default container: exec is filtered, with the container\'s capability set', () => {
    expect(husk(root, ['run', '--network', 'none', '-d', '--name', 'filtered', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', 'host', 'sleep', '60']).status).toBe(0);
    const r = husk(root, ['exec', 'filtered', 'sh', '-c', 'grep -E "^(CapEff|Seccomp):" /proc/self/status']);
    expect(r.stdout).toBe('CapEff:\t0000000000000001\nSeccomp:\t2\n');
    // exec --privileged changes the capabilities, not the profile (as runc's exec).
    const p = husk(root, ['exec', '--privileged', 'filtered', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status']);
    expect(p.stdout).toBe('Seccomp:\t2\n');
  });

  it('an unconfined container: exec is not filtered either', () => {
    expect(husk(root, ['run', '--network', 'none', '-d', '--name', 'open', '--security-opt', 'seccomp=unconfined', 'host', 'sleep', '60']).status).toBe(0);
    expect(husk(root, ['exec', 'open', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status']).stdout).toBe('Seccomp:\t0\n');
  });
});
