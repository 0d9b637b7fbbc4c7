// Idmapped bind mounts under husk-runc (OCI mounts[].uidMappings/gidMappings, runc 1.2's idmap
// and ridmap options): a host directory owned by uid 1000 shows as root's inside and what root
// writes there lands as 1000 on the host; ridmap reaches the mounts under the source, idmap
// does not; a source whose filesystem cannot be idmapped, and mappings that cannot be, are
// refused by name, leaving nothing; the destination resolves inside the rootfs.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle, bundles } = useRunc();

// As runc and the kernel read a mount's maps: an id on disk is a containerID, seen as its
// hostID (so with the container's own user namespace's maps, the image's root shows as its
// root). Without a user namespace, disk's 1000 seen as 0 is containerID 1000, hostID 0.
const mapping = (uid: number) => ({ uidMappings: [{ containerID: uid, hostID: 0, size: 1 }], gidMappings: [{ containerID: uid, hostID: 0, size: 1 }] });

let made = 0;
/** A host directory owned by 1000:1000 with a file of 1000's in it. */
function hostDir(): string {
  const dir = join(bundles, `host${made++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'file'), 'x');
  chownSync(dir, 1000, 1000);
  chownSync(join(dir, 'file'), 1000, 1000);
  return dir;
}

let submounts: string[] = [];
afterEach(() => {
  for (const m of submounts.reverse()) spawnSync('umount', [m]);
  submounts = [];
});

/** The host's mount table lines naming `path` (as mountinfo's mount point). */
const mountedAt = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(path));

describe('idmapped mounts', () => {
  it('a directory of uid 1000, mapped 1000→0, is root\'s inside; root\'s writes land as 1000 on the host', () => {
    const dir = hostDir();
    const b = bundle(['sh', '-c', 'ls -ln /data/file | tr -s " " | cut -d" " -f3,4; touch /data/new; mkdir /data/sub; ls -lnd /data | tr -s " " | cut -d" " -f3,4'], (c) => {
      c.mounts.push({ destination: '/data', type: 'bind', source: dir, options: ['bind', 'idmap'], ...mapping(1000) });
    });
    const r = runc(['run', '--bundle', b, 'i1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('0 0\n0 0\n');
    for (const name of ['new', 'sub']) expect([statSync(join(dir, name)).uid, statSync(join(dir, name)).gid]).toEqual([1000, 1000]);
    expect(mountedAt(dir)).toEqual([]);
  });

  it('ridmap idmaps the mounts under the source too; idmap only the top one', () => {
    const dir = hostDir();
    const sub = join(dir, 'inner');
    mkdirSync(sub);
    chownSync(sub, 1000, 1000);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'uid=1000,gid=1000,size=1m', 'husk-test-idmap', sub]);
    expect(m.status, m.stderr?.toString()).toBe(0);
    submounts.push(sub);
    writeFileSync(join(sub, 'deep'), 'y');
    chownSync(join(sub, 'deep'), 1000, 1000);
    const show = ['sh', '-c', 'ls -ln /data/inner/deep | tr -s " " | cut -d" " -f3'];
    const run = (option: string, id: string) => {
      const b = bundle(show, (c) => c.mounts.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', option], ...mapping(1000) }));
      const r = runc(['run', '--bundle', b, id]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout;
    };
    expect(run('ridmap', 'i2')).toBe('0\n');
    expect(run('idmap', 'i3')).toBe('1000\n');
  });

  it('a file source, read-only, with the mapping read from the config as given', () => {
    const dir = hostDir();
    const b = bundle(['sh', '-c', 'ls -ln /etc/mapped | tr -s " " | cut -d" " -f3,4; echo z > /etc/mapped || echo refused'], (c) => {
      c.mounts.push({ destination: '/etc/mapped', type: 'bind', source: join(dir, 'file'), options: ['bind', 'ro', 'idmap'], uidMappings: [{ containerID: 1000, hostID: 5, size: 1 }], gidMappings: [{ containerID: 1000, hostID: 6, size: 1 }] });
    });
    const r = runc(['run', '--bundle', b, 'i4']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('5 6\nrefused\n');
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('x');
  });

  it('a destination that is a symlink out of the rootfs lands inside it, never on the host', () => {
    const dir = hostDir();
    const b = bundle(['sh', '-c', 'ls /escape/husk-idmap-test'], (c) => {
      c.root.readonly = false;
      c.mounts.push({ destination: '/escape/husk-idmap-test', type: 'bind', source: dir, options: ['bind', 'idmap'], ...mapping(1000) });
    });
    symlinkSync('/etc', join(b, 'rootfs', 'escape'));
    const r = runc(['run', '--bundle', b, 'i5']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('file\n');
    expect(existsSync('/etc/husk-idmap-test')).toBe(false);
    expect(mountedAt('/etc/husk-idmap-test')).toEqual([]);
  });

  it('what cannot be idmapped is refused by name, leaving nothing', () => {
    const dir = hostDir();
    const cases: [Record<string, unknown>, string][] = [
      [{ destination: '/data', type: 'bind', source: dir, options: ['bind'], uidMappings: mapping(1000).uidMappings }, 'husk-runc: mounts[0].gidMappings: missing (uidMappings needs it)\n'],
      [{ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], ...mapping(1000) }, 'husk-runc: mounts[0]: an idmapped mount (uidMappings, idmap) must be a bind mount\n'],
      [{ destination: '/data', type: 'bind', source: dir, options: ['bind', 'idmap'] }, 'husk-runc: mounts[0].options: "idmap" without uidMappings and gidMappings needs a user namespace (linux.namespaces) to take the mappings of\n'],
      [{ destination: '/data', type: 'bind', source: dir, options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 2000, size: 1 }], gidMappings: mapping(1000).gidMappings }, 'husk-runc: mounts[0].uidMappings[1]: container ids overlap mounts[0].uidMappings[0]\n'],
      [{ destination: '/data', type: 'bind', source: dir, options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 0 }], gidMappings: mapping(1000).gidMappings }, 'husk-runc: mounts[0].uidMappings[0]: not a range of ids (size of at least 1, inside 0 to 4294967294)\n'],
      [{ destination: '/data', type: 'bind', source: join(dir, 'none'), options: ['bind', 'idmap'], ...mapping(1000) }, `husk-runc: mounts[0].source: "${join(dir, 'none')}": no such file or directory\n`],
    ];
    cases.forEach(([mount, line], i) => {
      const r = runc(['run', '--bundle', bundle(['true'], (c) => (c.mounts = [mount])), `bad${i}`]);
      expect(r.stderr).toBe(line);
      expect(r.status).toBe(1);
    });
    // procfs cannot be idmapped: the kernel says so at run time (EINVAL), named.
    const proc = runc(['run', '--bundle', bundle(['true'], (c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/proc/sys', options: ['bind', 'idmap'], ...mapping(1000) })), 'badproc']);
    expect(proc.stderr).toBe('husk-runc: cannot create the container: idmapped mount of /proc/sys (its filesystem must support idmapped mounts): EINVAL (invalid argument)\n');
    expect(proc.status).toBe(1);
    expect(readdirSync(root)).toEqual([]);
    const features = JSON.parse(runc(['features']).stdout);
    expect(features.linux.mountExtensions.idmap.enabled).toBe(true);
    expect(features.mountOptions).toEqual(expect.arrayContaining(['idmap', 'ridmap']));
  });
});
