// fsPlan (docs/core-abi.md "fsPlan"): entries of a layer → an fs plan the launcher runs. Paths
// come from archives strangers wrote: the core cleans them, refuses a `..` and the root itself
// for mknod, and writes exactly one op per entry after FS_ROOT, so the wrapper can name the
// entry an op index points at.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { encodeFsRequest, FS_REQUEST, fsPlan, type FsEntry } from '../../ts/core/fs.js';
import { call } from '../../ts/core/wasm.js';
import { FrameWriter } from '../../ts/protocol/frames.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt } from './core-helpers.js';
import { withoutRunners } from './describe-helpers.js';

beforeAll(() => expectCoreBuilt());

const CHR = 0o020000;
const ROOT = '/var/lib/husk/layers/ab/diff';

function ops(entries: FsEntry[]) {
  const plan = fsPlan(ROOT, entries);
  const decoded = decodePlan(plan);
  expect(withoutRunners(describePlanBytes(plan))).toEqual(decoded); // the core reads back what it wrote
  expect(decoded.flags).toBe(0n);
  return decoded.ops.map((o) => [o.name, ...Object.values(o.args)]);
}

function refusal(entries: FsEntry[], root = ROOT): CoreError {
  try {
    fsPlan(root, entries);
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('the core made a plan');
}

describe('fsPlan', () => {
  it('rootless layers: FS_USERNS right after FS_ROOT carries the helpers and their triples; REMOVE_TREE a cleaned path', () => {
    const userns: FsEntry = { op: 'userns', newuidmap: '/usr/bin/newuidmap', uidArgs: ['0', '1000', '1', '1', '100000', '65536'], newgidmap: '/usr/bin/newgidmap', gidArgs: ['0', '1000', '1'] };
    expect(ops([userns, { op: 'remove-tree', path: '/old//tree/' }])).toEqual([
      ['FS_ROOT', ROOT],
      ['FS_USERNS', '/usr/bin/newuidmap', ['0', '1000', '1', '1', '100000', '65536'], '/usr/bin/newgidmap', ['0', '1000', '1']],
      ['REMOVE_TREE', 'old/tree'],
    ]);
    expect(refusal([{ op: 'remove-tree', path: 'a/../b' }]).message).toBe("remove a/../b: has a '..' component");
    expect(refusal([{ op: 'remove-tree', path: '/' }]).message).toBe('remove /: names the root itself');
    expect(refusal([{ op: 'read-xattrs', path: 'x' }, userns]).status).toBe(1);
    expect(refusal([{ ...userns, newgidmap: 'newgidmap' }]).message).toBe('fs userns: newuidmap and newgidmap must be absolute paths');
    expect(refusal([{ ...userns, uidArgs: ['0', '1000'] }]).message).toBe('fs userns: uid args are not 1 to 340 lines of inside outside count');
    expect(refusal([{ ...userns, gidArgs: ['0', '-1', '1'] }]).message).toBe('fs userns: gid arg -1 is not a number');
  });

  it('writes FS_ROOT, then one op per entry in order, paths cleaned inside the root', () => {
    expect(ops([
      { op: 'mknod', path: '/etc//passwd', mode: CHR, rdev: 0 },
      { op: 'setxattr', path: './usr/share/', name: 'trusted.overlay.opaque', value: new Uint8Array([0x79]) },
      { op: 'setxattr', path: 'bin/ping', name: 'security.capability', value: new Uint8Array([0, 1, 0xff]) },
      { op: 'read-xattrs', path: '/' },
      { op: 'read-xattrs', path: 'a/./b' },
    ])).toEqual([
      ['FS_ROOT', ROOT],
      ['MKNOD', 'etc/passwd', BigInt(CHR), 0n],
      ['SETXATTR', 'usr/share', 'trusted.overlay.opaque', '79'],
      ['SETXATTR', 'bin/ping', 'security.capability', '0001ff'],
      ['READ_XATTRS', '.'],
      ['READ_XATTRS', 'a/b'],
    ]);
  });

  it('accepts the edges: an empty value, a 255-byte name, the largest device number, every mode bit', () => {
    const name = `user.${'x'.repeat(250)}`;
    expect(ops([
      { op: 'setxattr', path: '.', name, value: new Uint8Array() },
      { op: 'mknod', path: 'b', mode: 0o067777, rdev: 0xffffffff },
      { op: 'mknod', path: 'f', mode: 0o010000, rdev: 0 },
    ])).toEqual([
      ['FS_ROOT', ROOT],
      ['SETXATTR', '.', name, ''],
      ['MKNOD', 'b', 0o067777n, 0xffffffffn],
      ['MKNOD', 'f', 0o010000n, 0n],
    ]);
  });

  it.each([
    [{ op: 'mknod', path: 'a/../../etc/x', mode: CHR, rdev: 0 }, "mknod a/../../etc/x: has a '..' component"],
    [{ op: 'mknod', path: '..', mode: CHR, rdev: 0 }, "mknod ..: has a '..' component"],
    [{ op: 'mknod', path: '/', mode: CHR, rdev: 0 }, 'mknod /: names the root itself'],
    [{ op: 'mknod', path: 'a', mode: 0o100644, rdev: 0 }, 'mknod a: mode 0o100644 is not a character or block device or a FIFO'],
    [{ op: 'mknod', path: 'a', mode: 0o120777, rdev: 0 }, 'mknod a: mode 0o120777 is not a character or block device or a FIFO'],
    [{ op: 'mknod', path: 'a', mode: CHR | 0o10000, rdev: 0 }, 'mknod a: mode 0o30000 is not a character or block device or a FIFO'],
    [{ op: 'mknod', path: 'a', mode: 2 ** 32 + CHR, rdev: 0 }, 'mknod a: mode 0o40000020000 has unknown bits'],
    [{ op: 'mknod', path: 'a', mode: CHR, rdev: 2 ** 32 }, 'mknod a: device number 4294967296 does not fit 32 bits'],
    [{ op: 'setxattr', path: 'x/../y', name: 'user.a', value: new Uint8Array() }, "xattr user.a on x/../y: has a '..' component"],
    [{ op: 'setxattr', path: 'a', name: 'overlay.opaque', value: new Uint8Array() }, 'xattr overlay.opaque on a: not in the user, trusted, security or system namespace'],
    [{ op: 'setxattr', path: 'a', name: 'user.', value: new Uint8Array() }, 'xattr user. on a: not in the user, trusted, security or system namespace'],
    [{ op: 'setxattr', path: 'a', name: `user.${'x'.repeat(251)}`, value: new Uint8Array() }, 'a name of 1 to 255 bytes'],
    [{ op: 'read-xattrs', path: '../x' }, "read xattrs of ../x: has a '..' component"],
  ].map(([entry, reason]) => [reason, entry]) as [string, FsEntry][])('refuses the entry: %s', (reason, entry) => {
    const err = refusal([{ op: 'mknod', path: 'fine', mode: CHR, rdev: 0 }, entry]);
    expect(err.status).toBe(2);
    expect(err.message).toContain(reason);
  });

  it('refuses a value too big to travel before it reaches the core', () => {
    const big: FsEntry = { op: 'setxattr', path: 'a', name: 'user.big', value: new Uint8Array(32769) };
    expect(() => fsPlan(ROOT, [big])).toThrow('xattr user.big on a: a value of 32769 bytes (at most 32768)');
    expect(ops([{ ...big, value: new Uint8Array(32768) }])[1][3]).toHaveLength(65536);
  });

  it('refuses more ops than a plan holds, naming the bound', () => {
    const entries: FsEntry[] = Array.from({ length: 1024 }, (_, i) => ({ op: 'read-xattrs', path: `f${i}` }));
    expect(ops(entries.slice(0, 1023)).length).toBe(1024);
    expect(refusal(entries).message).toBe('fs: more than 1024 ops in one plan');
  });

  it('calls a request that is not what docs/core-abi.md says malformed (status 1)', () => {
    const raw = (w: FrameWriter) => call('fsPlan', w.take());
    // An entry before FS_ROOT; no FS_ROOT at all; a relative root; an unknown frame; a value that is not hex.
    expect(raw(new FrameWriter().begin(FS_REQUEST.READ_XATTRS).str('a').end()).status).toBe(1);
    expect(raw(new FrameWriter()).status).toBe(1);
    expect(refusal([], 'relative').status).toBe(1);
    expect(raw(new FrameWriter().begin(FS_REQUEST.ROOT).str('/r').end().begin(0x0199).end()).status).toBe(1);
    const notHex = raw(new FrameWriter().begin(FS_REQUEST.ROOT).str('/r').end().begin(FS_REQUEST.SETXATTR).str('a').str('user.a').str('0G').end());
    expect(notHex.status).toBe(1);
    expect(new TextDecoder().decode(notHex.bytes)).toContain('not lowercase hex');
    // The request the wrapper sends is what the table says: FS_ROOT first.
    expect(encodeFsRequest('/r', []).subarray(4, 6)).toEqual(new Uint8Array([0x42, 0x01]));
  });
});
