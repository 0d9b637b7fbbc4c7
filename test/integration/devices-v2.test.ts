// Device rules on cgroup v2, on the real kernel: the BPF device program the core compiles,
// loaded and attached by the launcher (CGROUP_DEVICES). This host is hybrid, so each command
// here runs in a private mount namespace of its own where the v1 cgroup mounts are unmounted:
// husk sees a pure cgroup v2 host whose cgroup2 is /sys/fs/cgroup/unified, the container's
// cgroup is made there (under the suite's parent), and nothing but the program stands
// between the container and a device (it stays in its parent's v1 cgroups, which allow all).
// The host's mounts are not touched.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { huskBin, inspectContainer, repo, sleep, suiteDir, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { huskRuncJs as huskRunc } from './runc-harness.js';

const PARENT = process.env.HUSK_CGROUP_PARENT ?? '';
const UNIFIED = '/sys/fs/cgroup/unified';
const { root } = useLeakCheck({
  cleanup: (r) => {
    for (const id of readdirSync(r).filter((n) => /^[0-9a-f]{64}$/.test(n))) v2Only([huskBin, '--root', r, 'rm', '-f', id]);
  },
});
const runcRoot = suiteDir('runc-root');

/** `node ARGS` in a mount namespace of its own without the v1 cgroup mounts. */
function v2Only(args: string[]) {
  const script = 'for m in $(awk \'$9 == "cgroup" {print $5}\' /proc/self/mountinfo); do umount "$m" || exit 99; done; exec "$@"';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, '--', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const huskV2 = (args: string[]) => v2Only([huskBin, '--root', root, ...args]);
const bpf = (...args: string[]) => spawnSync('python3', [join(repo, 'test/integration/bpf-progs.py'), ...args], { encoding: 'utf8' });

// /dev/fuse (10:229) opens for root and CAP_MKNOD makes it anywhere: a node made in the
// container's /dev (a tmpfs without nodev, as docker's) is what the device program stops.
const makeAndOpen = 'mknod /dev/made c 10 229 && echo made; (exec 3<>/dev/made) && echo opened; (exec 3<>/dev/null) && echo null-ok';

describe('husk run on cgroup v2: docker\'s device rules as a BPF program', () => {
  it('the container is in a v2 cgroup only, may make any node, but opens only the default devices', () => {
    const plan = huskV2(['plan', '--network', 'none', 'host', 'true']);
    expect(plan.stdout).toMatch(new RegExp(`attach a device filter of \\d+ BPF instructions to cgroup ${UNIFIED}/${PARENT}/`));
    expect(plan.stdout).not.toMatch(/devices\.deny/);
    const r = huskV2(['run', '--network', 'none', 'host', 'sh', '-c', makeAndOpen]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('made\nnull-ok\n');
    expect(r.stderr).toMatch(/\/dev\/made: Operation not permitted/);
  });

  it('--device allows its node; --privileged has no program', () => {
    const withDevice = huskV2(['run', '--network', 'none', '--device', '/dev/fuse:/dev/f2', 'host', 'sh', '-c', makeAndOpen]);
    expect(withDevice.stderr).toBe('');
    expect(withDevice.stdout).toBe('made\nopened\nnull-ok\n');
    const privileged = huskV2(['run', '--network', 'none', '--privileged', 'host', 'sh', '-c', makeAndOpen]);
    expect(privileged.stderr).toBe('');
    expect(privileged.stdout).toBe('made\nopened\nnull-ok\n');
  });

  it('the program is attached to the container\'s cgroup and goes away with it', async () => {
    const r = huskV2(['run', '--network', 'none', '-d', 'host', 'sleep', '60']);
    expect(r.status, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const dir = join(UNIFIED, PARENT, id);
    const q = bpf('query', dir);
    expect(q.status, q.stderr).toBe(0);
    const ids = q.stdout.trim().split(' ').filter(Boolean);
    expect(ids).toHaveLength(1);
    expect(bpf('exists', ids[0]).stdout).toBe('yes\n');
    expect(inspectContainer(root, id).State.Running).toBe(true);
    const rm = huskV2(['rm', '-f', id]);
    expect(rm.status, rm.stderr).toBe(0);
    // The kernel frees a cgroup's programs once the removed cgroup is released (a worker).
    const deadline = Date.now() + 10_000;
    while (bpf('exists', ids[0]).stdout !== 'no\n') {
      if (Date.now() > deadline) throw new Error(`program ${ids[0]} still loaded 10 s after rm`);
      await sleep(100);
    }
  });
});

describe('husk-runc on cgroup v2: linux.resources.devices as a BPF program', () => {
  const rootfs = suiteRootfs();
  const bundles = suiteDir('bundles');
  let n = 0;
  function bundle(rules: object[]): string {
    const dir = join(bundles, `b${n++}`);
    mkdirSync(dir);
    spawnSync('cp', ['-a', rootfs, join(dir, 'rootfs')]);
    const made = spawnSync(process.execPath, ['--', huskRunc, 'spec'], { cwd: dir, encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    cfg.process.terminal = false;
    cfg.process.args = ['sh', '-c', '(exec 3<>/dev/fuse) && echo fuse-opened; (exec 3<>/dev/null) && echo null-ok'];
    cfg.linux.cgroupsPath = `/${PARENT}/runc-v2-${n}`;
    cfg.linux.resources = { devices: rules };
    cfg.mounts.push({ destination: '/dev/fuse', type: 'bind', source: '/dev/fuse', options: ['bind'] });
    mkdirSync(join(dir, 'rootfs', 'dev'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    return dir;
  }
  const run = (dir: string, id: string) => v2Only([huskRunc, '--root', runcRoot, 'run', '--bundle', dir, id]);

  it('a deny-all config cannot open a bound-in device; an allow rule for it can', () => {
    const denied = run(bundle([{ allow: false, access: 'rwm' }]), 'v2-denied');
    expect(denied.status, denied.stderr).toBe(0);
    expect(denied.stdout).toBe('null-ok\n');
    expect(denied.stderr).toMatch(/\/dev\/fuse: Operation not permitted/);
    const allowed = run(bundle([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }]), 'v2-allowed');
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe('fuse-opened\nnull-ok\n');
  });
});
