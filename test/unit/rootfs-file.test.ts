// Files read out of a rootfs resolve inside it, are regular files, and have a size limit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HuskError } from '../../ts/errors.js';
import { readRootfsFile } from '../../ts/host/rootfs-file.js';
import { resolveUser } from '../../ts/runtime/user.js';

// Made when the tests run, not when the file loads (a filtered run or `vitest list` would leave it).
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'husk-unit-rootfs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh rootfs with an etc/ directory. */
function rootfs(): string {
  const r = join(dir, `r${n++}`);
  mkdirSync(join(r, 'etc'), { recursive: true });
  return r;
}

const text = (b: Buffer | undefined) => b?.toString('utf8');

describe('readRootfsFile', () => {
  it('reads a plain file, and answers undefined for a missing one', () => {
    const r = rootfs();
    writeFileSync(join(r, 'etc/passwd'), 'app:x:7:7::/:/bin/sh\n');
    expect(text(readRootfsFile(r, 'etc/passwd'))).toBe('app:x:7:7::/:/bin/sh\n');
    expect(readRootfsFile(r, 'etc/group')).toBeUndefined();
    expect(readRootfsFile(r, 'nodir/group')).toBeUndefined();
    writeFileSync(join(r, 'file'), '');
    expect(readRootfsFile(r, 'file/passwd')).toBeUndefined(); // a file where a directory should be
  });

  it('resolves absolute symlinks from the rootfs, never from the host', () => {
    const r = rootfs();
    mkdirSync(join(r, 'data'));
    writeFileSync(join(r, 'data/passwd'), 'inside\n');
    // The host has /etc/hostname; the rootfs has none: a host path must not be reached.
    symlinkSync('/etc/hostname', join(r, 'etc/motd'));
    expect(readRootfsFile(r, 'etc/motd')).toBeUndefined();
    // Two links naming each other by absolute names are a loop inside the rootfs.
    symlinkSync('/etc/gshadow', join(r, 'etc/shadow'));
    symlinkSync('/etc/shadow', join(r, 'etc/gshadow'));
    expect(() => readRootfsFile(r, 'etc/gshadow')).toThrow(/too many levels of symbolic links/);
    symlinkSync('/data/passwd', join(r, 'etc/passwd'));
    expect(text(readRootfsFile(r, 'etc/passwd'))).toBe('inside\n');
  });

  it('clamps relative symlinks at the rootfs, as `..` at / does', () => {
    const r = rootfs();
    symlinkSync('../../../../../../../../etc/hostname', join(r, 'etc/motd'));
    expect(readRootfsFile(r, 'etc/motd')).toBeUndefined();
    // A link to the host's passwd by `..` lands on the rootfs's own etc/passwd: itself.
    symlinkSync('../../../../../../../../etc/passwd', join(r, 'etc/passwd'));
    expect(() => readRootfsFile(r, 'etc/passwd')).toThrow(/^cannot read \/etc\/passwd of the rootfs: too many levels of symbolic links$/);
  });

  it('follows symlinked directories inside the rootfs, and never out of it', () => {
    const r = rootfs();
    rmSync(join(r, 'etc'), { recursive: true });
    mkdirSync(join(r, 'real/etc'), { recursive: true });
    writeFileSync(join(r, 'real/etc/group'), 'staff:x:50:\n');
    symlinkSync('real/etc', join(r, 'etc'));
    expect(text(readRootfsFile(r, 'etc/group'))).toBe('staff:x:50:\n');
    // `tmp/<the rootfs's own name>` on the host is the rootfs's parent's child: going up from
    // it leaves the rootfs on the host, and stays inside when resolved in the root.
    const r2 = rootfs();
    const up = join(r2, 'tmp', basename(dir), basename(r2));
    mkdirSync(join(r2, 'x/y/z/w'), { recursive: true });
    mkdirSync(join(r2, 'x/etc'), { recursive: true });
    writeFileSync(join(r2, 'x/etc/passwd'), 'daemon:x:4242:4242::/:/bin/sh\n');
    mkdirSync(join(up, '..'), { recursive: true });
    symlinkSync('/x/y/z/w', up);
    const depth = r2.split('/').length - 1; // components from / to the rootfs
    symlinkSync(`${r2}/${'../'.repeat(depth)}etc/passwd`, join(r2, 'etc/passwd'));
    // On the host that link is /etc/passwd; inside, it is x/y/z/w/../../../etc/passwd.
    expect(text(readRootfsFile(r2, 'etc/passwd'))).toBe('daemon:x:4242:4242::/:/bin/sh\n');
    expect(resolveUser('daemon', r2)).toEqual({ uid: 4242, gid: undefined, primaryGid: 4242 });
  });

  it('refuses a FIFO, a directory and a device at once, with one clear line', () => {
    const r = rootfs();
    execFileSync('mkfifo', [join(r, 'etc/passwd')]);
    mkdirSync(join(r, 'etc/group'));
    symlinkSync('/dev/null', join(r, 'etc/shadow'));
    expect(() => readRootfsFile(r, 'etc/passwd')).toThrow(/^cannot read \/etc\/passwd of the rootfs: it is a FIFO, not a regular file$/);
    expect(() => readRootfsFile(r, 'etc/group')).toThrow(/it is a directory, not a regular file/);
    expect(readRootfsFile(r, 'etc/shadow')).toBeUndefined(); // /dev/null inside the rootfs: absent
    mkdirSync(join(r, 'dev'));
    execFileSync('mknod', [join(r, 'dev/null'), 'c', '1', '3']);
    expect(() => readRootfsFile(r, 'etc/shadow')).toThrow(/it is a character device, not a regular file/);
  });

  it('refuses a file over the limit', () => {
    const r = rootfs();
    writeFileSync(join(r, 'etc/passwd'), Buffer.alloc((1 << 20) + 1, 0x61));
    let err: unknown;
    try {
      readRootfsFile(r, 'etc/passwd');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HuskError);
    expect((err as HuskError).code).toBe('rootfs');
    expect((err as HuskError).message).toBe('cannot read /etc/passwd of the rootfs: larger than 1 MiB');
    writeFileSync(join(r, 'etc/group'), Buffer.alloc(1 << 20, 0x61));
    expect(readRootfsFile(r, 'etc/group')?.length).toBe(1 << 20);
    expect(() => readRootfsFile(r, 'etc/group', 100)).toThrow(/larger than 100 bytes/);
  });
});

describe('--user reads through it', () => {
  it("never takes the host's entry for a name", () => {
    const r = rootfs();
    symlinkSync('/etc/passwd', join(r, 'etc/passwd'));
    expect(() => resolveUser('daemon', r)).toThrow(/too many levels of symbolic links/);
    const r2 = rootfs();
    symlinkSync('/etc/group', join(r2, 'etc/passwd')); // absent inside: the name is unknown
    expect(() => resolveUser('daemon', r2)).toThrow(/unable to find user daemon/);
  });
});
