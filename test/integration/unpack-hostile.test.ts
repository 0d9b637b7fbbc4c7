// Hostile layers: every entry lands inside the layer's directory or the layer is refused with
// one line naming the entry; the host (a sentinel directory here) is never touched, and no
// half-written layer or temp directory is left. Published CVEs of this class in docker,
// containerd, umoci, containers/storage, node-tar and Go's archive/tar are named in the titles.
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { T_DIR, T_HARDLINK, T_SYMLINK } from '../../ts/image/tar-header.js';
import { tarOf } from '../../ts/image/tar-writer.js';
import { useLeakCheck } from './leak-check.js';
import { useUnpackArea } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();
const S = u.sentinel; // an absolute host path a layer must not reach
const dir = (name: string, mode = 0o755) => ({ name, type: T_DIR, mode });
const sym = (name: string, linkname: string) => ({ name, type: T_SYMLINK, linkname });
const hard = (name: string, linkname: string) => ({ name, type: T_HARDLINK, linkname });
const file = (name: string, data = 'x', mode = 0o644) => ({ name, data, mode });

describe('names that climb out', () => {
  it('an entry ../x is refused, naming the entry (docker CVE-2014-6407, node-tar path traversal)', async () => {
    const msg = await u.expectRefused([file('ok'), file('../../../../../../tmp/escaped')], /^layer test: entry "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/tmp\/escaped": its name climbs out of the layer with \.\.$/);
    expect(msg).not.toContain('\n');
  });

  it('a name that climbs out in its middle (a/../../x) is refused', async () => {
    await u.expectRefused([file('a/../../x')], /entry "a\/\.\.\/\.\.\/x": its name climbs out/);
  });

  it('an absolute name lands inside the layer, as docker and GNU tar take it', async () => {
    const { dir: d } = await u.unpack([file(`${S}/keep`, 'from the layer')]);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('from the layer');
  });

  it('extra leading slashes do not make a name absolute twice (node-tar CVE-2021-32804)', async () => {
    const { dir: d } = await u.unpack([file(`////${S}/keep`, 'slashes')]);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('slashes');
  });
});

describe('symlinks made earlier in the same tar', () => {
  it('a file through an absolute symlink lands where the link points inside the layer (docker CVE-2014-9356)', async () => {
    const { dir: d } = await u.unpack([sym('evil', S), file('evil/keep', 'pwned')]);
    expect(readlinkSync(join(d, 'evil'))).toBe(S);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('pwned');
  });

  it('a file through a relative symlink that climbs out stops at the layer root', async () => {
    const { dir: d } = await u.unpack([sym('up', '../../../../../../../..'), file(`up${S}/keep`, 'pwned')]);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('pwned');
  });

  it('a chain of symlinks is followed inside the layer, never out', async () => {
    const { dir: d } = await u.unpack([sym('a', 'b'), sym('b', 'c/..'), dir('c'), sym('c/d', S), file('a/c/d/keep', 'chain')]);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('chain');
  });

  it('a directory replaced by a symlink does not send the next file out (node-tar CVE-2021-32803)', async () => {
    const { dir: d } = await u.unpack([dir('a'), sym('a', S), file('a/keep', 'poisoned')]);
    expect(readlinkSync(join(d, 'a'))).toBe(S);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('poisoned');
  });

  it('a directory with a trailing slash after a symlink of its name replaces the link (node-tar CVE-2021-37701)', async () => {
    const { dir: d } = await u.unpack([sym('d', S), dir('d/'), file('d/keep', 'inside')]);
    expect(statSync(join(d, 'd')).isDirectory()).toBe(true);
    expect(readFileSync(join(d, 'd/keep'), 'utf8')).toBe('inside');
  });

  it('an entry of the same name as a symlink to a host file replaces the link, never chmods the host file (containerd CVE-2021-32760)', async () => {
    const { dir: d } = await u.unpack([sym('f', `${S}/keep`), { name: 'f', data: 'mine', mode: 0o777 }]);
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('mine');
    expect(statSync(join(S, 'keep')).mode & 0o777).toBe(0o644);
  });

  it('a symlink loop is stored; a file through it is refused', async () => {
    await u.expectRefused([sym('a', 'b'), sym('b', 'a'), file('a/x')], /entry "a\/x": name: too many levels of symbolic links/);
  });
});

describe('hardlinks', () => {
  it('a hardlink climbing out to a host file is refused (docker CVE-2014-6407)', async () => {
    await u.expectRefused([hard('h', `../../../../../../../..${S}/keep`)], /entry "h": a hardlink to outside the layer/);
  });

  it('an absolute hardlink names a file of the layer, not of the host', async () => {
    await u.expectRefused([hard('h', `${S}/keep`)], /entry "h": a hardlink to ".*\/keep", which is not in this layer before it/);
  });

  it('a hardlink through a symlink to the host links inside the layer only', async () => {
    await u.expectRefused([sym('l', S), hard('h', 'l/keep')], /entry "h": a hardlink to ".*keep", which is not in this layer before it/);
  });

  it('a file written over a hardlink replaces the link, not the linked file (node-tar CVE-2018-20834)', async () => {
    const { dir: d } = await u.unpack([file('f', 'original'), hard('h', 'f'), file('h', 'overwritten')]);
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('original');
    expect(readFileSync(join(d, 'h'), 'utf8')).toBe('overwritten');
  });

  it('a hardlink to a symlink is a symlink the next entries resolve as one', async () => {
    const { dir: d } = await u.unpack([sym('s', S), hard('h', 's'), file('h/keep', 'through the twin')]);
    expect(readlinkSync(join(d, 'h'))).toBe(S);
    expect(readFileSync(join(d, S, 'keep'), 'utf8')).toBe('through the twin');
  });

  it('a hardlink to a directory is refused', async () => {
    await u.expectRefused([dir('d'), hard('h', 'd')], /entry "h": a hardlink to "d", which is a directory/);
  });
});

describe('broken and oversized archives', () => {
  it('a truncated layer is refused and nothing of it is left', async () => {
    const whole = tarOf([file('a', 'x'.repeat(5000)), file('b', 'y'.repeat(5000))]);
    await u.expectRefused(whole.subarray(0, 3000), /^layer test: truncated archive: it ends inside an entry/);
  });

  it('a truncated gzip layer is refused (containers/storage CVE-2021-20291: no hang, no process left)', async () => {
    const gz = gzipSync(tarOf([file('a', 'x'.repeat(50_000))]));
    await u.expectRefused(gz.subarray(0, gz.length - 20), /^layer test: not valid gzip: unexpected end of file$/);
  });

  it('a corrupt header is refused with its offset', async () => {
    const t = tarOf([file('a', 'x'), file('b', 'y')]);
    t[1024 + 10] ^= 0xff; // the second header's name
    await u.expectRefused(t, /^layer test: corrupt header: header checksum does not match \(at byte 1024 of the tar\)$/);
  });

  it('a layer that is not a tar is refused as such', async () => {
    await u.expectRefused(Buffer.from('{"this": "is json, not a layer"}\n'.repeat(40)), /^layer test: not a tar archive: /);
  });

  it('a digest mismatch is refused and nothing is left', async () => {
    await u.expectRefused([file('a')], /^layer test: digest mismatch: expected sha256:0{64}, the blob is sha256:[0-9a-f]{64}$/, { expectDigest: `sha256:${'0'.repeat(64)}` });
  });

  it('a gzip bomb stops at the size limit (docker CVE-2017-14992)', async () => {
    const bomb = gzipSync(tarOf([{ name: 'zeros', data: Buffer.alloc(16 << 20) }]));
    expect(bomb.length).toBeLessThan(1 << 20);
    await u.expectRefused(bomb, /^layer test: unpacks to more than 4194304 bytes, the limit \(a decompression bomb\?\)$/, { maxBytes: 4 << 20 });
  });

  it('a huge PAX header is refused before it is held in memory (Go CVE-2022-2879, containerd CVE-2023-25153)', async () => {
    const big = tarOf([{ name: 'a', data: 'x', xattrs: { 'user.big': 'v'.repeat(2 << 20) } }]);
    await u.expectRefused(big, /^layer test: a PAX header of \d+ bytes \(more than 1048576\)/);
  });

  it('a name longer than the kernel takes is refused by length (node-tar CVE-2024-28863 deep paths)', async () => {
    await u.expectRefused([file('a/'.repeat(3000) + 'x')], /a name of 6001 bytes \(at most 4095\)/);
  });

  it('a tar entry type a layer cannot hold is refused by name', async () => {
    await u.expectRefused([{ name: 'vol', type: 0x56 }], /entry "vol": tar entry type "V", which a layer cannot hold/);
  });
});

describe('entries that replace each other', () => {
  it('a later entry of the same name wins, as tar', async () => {
    const { dir: d } = await u.unpack([file('a', 'first'), file('a', 'second')]);
    expect(readFileSync(join(d, 'a'), 'utf8')).toBe('second');
  });

  it('a directory replaces a file, and a file a directory with its contents', async () => {
    const { dir: d } = await u.unpack([file('a', 'f'), dir('a'), file('a/in'), dir('b'), file('b/in'), file('b', 'now a file')]);
    expect(statSync(join(d, 'a')).isDirectory()).toBe(true);
    expect(readFileSync(join(d, 'b'), 'utf8')).toBe('now a file');
  });

  it('a file under a file of this layer is refused: its parent is not a directory', async () => {
    await u.expectRefused([file('a'), file('a/b')], /entry "a\/b": a parent of it is not a directory in this layer/);
  });

  it('the layer root may not be a symlink', async () => {
    await u.expectRefused([sym('.', S)], /name: a link cannot replace the root/);
    expect(existsSync(join(S, 'keep'))).toBe(true);
  });
});

describe('overlay attributes and whiteouts', () => {
  it('an xattr of overlayfs\'s own (trusted.overlay.redirect) is refused', async () => {
    await u.expectRefused([{ name: 'd', type: T_DIR, xattrs: { 'trusted.overlay.redirect': '/etc' } }], /entry "d": the xattr "trusted\.overlay\.redirect", which only overlayfs may set/);
  });

  it('a whiteout under a symlink to the host is refused, the host file stays (umoci CVE-2021-29136)', async () => {
    await u.expectRefused([sym('l', S), file('l/.wh.keep', '')], /entry "l\/\.wh\.keep": a whiteout through the symlink\(s\) of this layer/);
    expect(readFileSync(join(S, 'keep'), 'utf8')).toBe('the host file\n');
  });

  it('a whiteout of .. is refused', async () => {
    await u.expectRefused([dir('a'), file('a/.wh...', '')], /entry "a\/\.wh\.\.\.": /);
  });
});
