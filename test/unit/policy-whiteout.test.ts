// OCI layer whiteouts ↔ overlayfs, per the image spec's layer document.
import { describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { classifyLayer, layerFlatten, layerToOverlay, overlayToLayer } from '../../ts/core/whiteout.js';
import * as ref from '../reference/whiteout.js';
import type { LayerEntry, UpperEntry } from '../reference/whiteout.js';

const file = (path: string, size = 0n): LayerEntry => ({ path, type: ref.TYPE_REGULAR, size, rdev: 0n });
const dir = (path: string): LayerEntry => ({ path, type: ref.TYPE_DIRECTORY, size: 0n, rdev: 0n });
const show = (as: { kind: number; path: string; detail?: string }[]) => as.map((a) => `${a.kind} ${a.path}${a.detail ? ' ' + a.detail : ''}`);

describe('classify', () => {
  it('names each kind of entry', () => {
    const entries = [dir('./etc/'), file('etc/.wh.passwd'), file('/usr/.wh..wh..opq'), file('.wh..wh.plnk/123'), file('a/../b')];
    const got = classifyLayer(entries);
    expect(got.map((c) => [c.kind, c.path])).toEqual([[1, 'etc'], [2, 'etc/passwd'], [3, 'usr'], [5, ''], [1, 'b']]);
    expect(ref.classify(0, entries)).toEqual({ status: 0, value: got });
  });
  it('finds invalid entries and says why', () => {
    const bad: [LayerEntry, string][] = [
      [file('a/.wh..'), 'whiteout names "."'],
      [file('a/.wh.'), 'whiteout names ""'],
      [file('.wh...'), 'whiteout names ".."'],
      [file('../etc/passwd'), 'escapes the root'],
      [file('a/../../x'), 'escapes the root'],
      [file('a/.wh.b', 1n), 'a whiteout must be empty'],
      [dir('a/.wh.b'), 'a whiteout must be a regular file'],
      [file('a/.wh.b/c'), 'directory .wh.b has a whiteout name'],
      [file('a/.wh..wh.foo'), 'unknown whiteout meta name .wh..wh.foo'],
      [file('./'), 'the root of a layer must be a directory'],
    ];
    const got = classifyLayer(bad.map(([e]) => e));
    expect(got.map((c) => [c.kind, c.reason])).toEqual(bad.map(([, why]) => [ref.CLASS_INVALID, why]));
  });
});

describe('to overlay', () => {
  it('a whiteout becomes a 0:0 character device, an opaque marker an xattr set last', () => {
    const layer = [dir('etc'), file('etc/.wh.passwd'), dir('usr'), file('usr/.wh..wh..opq'), file('usr/x', 5n)];
    expect(show(layerToOverlay(layer))).toEqual(['16 etc', '17 etc/passwd', '16 usr', '16 usr/x', '18 usr trusted.overlay.opaque']);
    expect(show(layerToOverlay(layer, true)).at(-1)).toBe('18 usr user.overlay.opaque');
  });
  it('a whiteout of a directory the same layer makes again turns that directory opaque', () => {
    const layer = [file('.wh.d'), dir('d'), file('d/new')];
    expect(show(layerToOverlay(layer))).toEqual(['16 d', '16 d/new', '18 d trusted.overlay.opaque']);
    expect(show(layerToOverlay([file('.wh.f'), file('f')]))).toEqual(['16 f']);
  });
  it('refuses a layer with an invalid entry, or a real 0:0 device', () => {
    expect(() => layerToOverlay([file('../x')])).toThrow('entry 0 (../x): escapes the root');
    expect(() => layerToOverlay([{ path: 'dev/null0', type: ref.TYPE_CHAR, size: 0n, rdev: 0n }])).toThrow(/0:0 reads as a whiteout/);
    expect(ref.toOverlay(0, [file('../x')], false)).toMatchObject({ status: 2 });
  });
  it('changes only: the same answer without the EXTRACTs, and the same refusals', () => {
    const layer = [dir('etc'), file('etc/.wh.passwd'), dir('usr'), file('usr/.wh..wh..opq'), file('usr/x', 5), file('.wh.d'), dir('d')];
    const all = layerToOverlay(layer);
    expect(show(layerToOverlay(layer, false, true))).toEqual(show(all.filter((a) => a.kind !== ref.ACTION_EXTRACT)));
    expect(show(layerToOverlay(layer, false, true))).toEqual(['17 etc/passwd', '18 usr trusted.overlay.opaque', '18 d trusted.overlay.opaque']);
    expect(() => layerToOverlay([file('../x')], false, true)).toThrow('entry 0 (../x): escapes the root');
    expect(() => layerToOverlay([dir('a'), { path: 'a/null0', type: ref.TYPE_CHAR, size: 0, rdev: 0 }], false, true)).toThrow(/entry 1 .*0:0 reads as a whiteout/);
    expect(() => layerToOverlay([file('./')], false, true)).toThrow('the root of a layer must be a directory');
  });
});

describe('flatten', () => {
  it('deletes lower content first (opaque clears, then whiteouts), then extracts in order', () => {
    const layer = [dir('a'), file('a/.wh.b'), file('c/.wh..wh..opq'), file('a/b'), file('.wh.d')];
    expect(show(layerFlatten(layer))).toEqual(['20 c', '19 a/b', '19 d', '16 a', '16 a/b']);
    expect(ref.flatten(0, layer)).toEqual({ status: 0, value: layerFlatten(layer) });
  });
});

describe('from overlay', () => {
  const upper = (path: string, type: number, rdev = 1n, xattrs: string[] = []): UpperEntry => ({ path, type, rdev, xattrs });
  it('a 0:0 char device is a whiteout; an opaque directory gets its marker first among its children', () => {
    const listing = [
      upper('etc/z', ref.TYPE_REGULAR), upper('etc', ref.TYPE_DIRECTORY, 0n, ['trusted.overlay.opaque=y']),
      upper('etc/gone', ref.TYPE_CHAR, 0n), upper('etc/a', ref.TYPE_REGULAR), upper('dev/tty', ref.TYPE_CHAR, 0x500n),
      upper('sock', ref.TYPE_SOCKET),
    ];
    expect(overlayToLayer(listing).map((e) => `${e.kind} ${e.path}`)).toEqual([
      '1 dev/tty', '1 etc', '3 etc/.wh..wh..opq', '2 etc/.wh.gone', '1 etc/a', '1 etc/z',
    ]);
    expect(overlayToLayer(listing, true).map((e) => e.path)).not.toContain('etc/.wh..wh..opq');
  });
  it('refuses names a layer cannot carry', () => {
    expect(() => overlayToLayer([upper('.wh.x', ref.TYPE_REGULAR)])).toThrow(/cannot be stored in a layer/);
    expect(() => overlayToLayer([upper('a', 1), upper('./a', 1)])).toThrow(CoreError);
  });
});

describe('batches', () => {
  it('a 100k-entry layer crosses in a few calls and gives the same answer as the reference', () => {
    const layer: LayerEntry[] = [];
    for (let i = 0; i < 100_000; i++) {
      layer.push(i % 10 === 0 ? file(`usr/share/doc/package-${i}/.wh.changelog.Debian.gz`) : file(`usr/share/doc/package-${i - (i % 10)}/file-${i}.txt`, 10n));
    }
    const got = layerToOverlay(layer);
    const want = ref.toOverlay(0, layer, false);
    expect(want.status).toBe(0);
    expect(got).toEqual((want as { value: unknown }).value);
  });
});
