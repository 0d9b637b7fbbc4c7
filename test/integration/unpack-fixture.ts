// Shared by the unpack suites: a work area, a sentinel directory standing for "the host" that
// no layer may change, and the checks every test ends with (nothing half-written left).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, expect } from 'vitest';
import { HuskError } from '../../ts/errors.js';
import { unpackLayer, type UnpackOptions, type UnpackResult } from '../../ts/image/unpack.js';
import { tarOf, type WriteEntry } from '../../ts/image/tar-writer.js';
import { suiteDir } from './helpers.js';

export type Entry = WriteEntry & { data?: Buffer | string };

/** Every file under `dir` with its type, mode, owner and contents (symlinks: their target). */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = rel ? join(dir, rel) : dir;
    const st = lstatSync(full);
    let what = `${rel || '.'} ${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) what += ` -> ${execFileSync('readlink', [full], { encoding: 'utf8' }).trim()}`;
    else if (st.isFile()) what += ` ${readFileSync(full, 'latin1')}`;
    out.push(what);
    if (st.isDirectory()) for (const n of readdirSync(full).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

export function useUnpackArea() {
  const area = suiteDir('unpack');
  const sentinel = suiteDir('sentinel', {
    fill: (d) => writeFileSync(join(d, 'keep'), 'the host file\n', { mode: 0o644 }),
  });
  let n = 0;
  let before: string[] | undefined;
  afterEach(() => {
    // The host stand-in is as it was, and no temp directory is left beside any layer.
    if (before) expect(listing(sentinel)).toEqual(before);
    const temps = readdirSync(area, { withFileTypes: true })
      .flatMap((d) => (d.isDirectory() && d.name.startsWith('layer-') ? readdirSync(join(area, d.name)) : [d.name]))
      .filter((x) => x.startsWith('.husk-unpack'));
    expect(temps).toEqual([]);
  });
  const self = {
    area,
    sentinel,
    /** A fresh dest path (its parent is made by unpackLayer). */
    dest(): string {
      before ??= listing(sentinel);
      return join(area, `layer-${++n}`, 'diff');
    },
    /** Writes `bytes` as a blob file in the area. */
    blob(bytes: Buffer, name = `blob-${++n}`): string {
      before ??= listing(sentinel);
      const p = join(area, name);
      writeFileSync(p, bytes);
      return p;
    },
    async unpack(entries: Entry[] | Buffer, opts: UnpackOptions = {}): Promise<{ dir: string; result: UnpackResult }> {
      const bytes = Buffer.isBuffer(entries) ? entries : gzipSync(tarOf(entries));
      const dir = self.dest();
      const result = await unpackLayer(self.blob(bytes), dir, { label: 'test', ...opts });
      return { dir, result };
    },
    /** The unpack fails with a HuskError whose message matches, and leaves no dest. */
    async expectRefused(entries: Entry[] | Buffer, message: RegExp, opts: UnpackOptions = {}): Promise<string> {
      const bytes = Buffer.isBuffer(entries) ? entries : gzipSync(tarOf(entries));
      const dir = self.dest();
      const err = await unpackLayer(self.blob(bytes), dir, { label: 'test', ...opts }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(HuskError);
      expect((err as HuskError).exitStatus).toBe(125);
      expect((err as HuskError).message).toMatch(message);
      expect((err as HuskError).message).not.toMatch(/internal error/);
      expect(existsSync(dir)).toBe(false);
      return (err as HuskError).message;
    },
  };
  return self;
}
