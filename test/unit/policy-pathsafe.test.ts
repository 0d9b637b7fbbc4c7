// Entry names, symlink and hardlink targets resolved against the root as securejoin does.
import { describe, expect, it } from 'vitest';
import { pathVerdicts } from '../../ts/core/pathsafe.js';
import * as ref from '../reference/pathsafe.js';
import type { PathItem } from '../reference/pathsafe.js';

const name = (n: string): PathItem => ({ kind: ref.ITEM_NAME, name: n, target: '' });
const sym = (n: string, t: string): PathItem => ({ kind: ref.ITEM_SYMLINK, name: n, target: t });
const hard = (n: string, t: string): PathItem => ({ kind: ref.ITEM_HARDLINK, name: n, target: t });

function verdicts(items: PathItem[]): string[] {
  const got = pathVerdicts(items);
  expect(ref.pathVerdicts(0, items)).toEqual({ status: 0, value: got });
  return got.map((v) => (v.verdict === ref.VERDICT_OK ? `ok ${v.path}${v.target ? ' -> ' + v.target : ''}` : `${v.verdict} ${v.reason}`));
}

describe('path safety', () => {
  it('names are cleaned; names that climb out are refused', () => {
    expect(verdicts([name('/etc/passwd'), name('./a/./b/'), name('a/../b'), name('../x'), name('a/../../x')])).toEqual([
      'ok etc/passwd', 'ok a/b', 'ok b', '2 name: escapes the root', '2 name: escapes the root',
    ]);
  });
  it('symlink targets resolve inside the root: absolute from the root, .. stops at the root', () => {
    expect(verdicts([sym('lib/l', '/etc/passwd'), sym('a/b', '../../../../etc'), sym('x', 'y/z')])).toEqual([
      'ok lib/l -> etc/passwd', 'ok a/b -> etc', 'ok x -> y/z',
    ]);
  });
  it('an entry under a symlink lands where the link points, inside the root', () => {
    expect(verdicts([sym('evil', '/'), name('evil/etc/shadow'), sym('up', '../../..'), name('up/x'), sym('abs', '/usr'), hard('abs/h', 'abs/f')])).toEqual([
      'ok evil -> .', 'ok etc/shadow', 'ok up -> .', 'ok x', 'ok abs -> usr', 'ok usr/h -> usr/f',
    ]);
  });
  it('hardlinks to outside the root are refused', () => {
    expect(verdicts([hard('a', '../../etc/passwd'), hard('b', '/etc/passwd'), hard('c', ''), hard('d', '/')])).toEqual([
      '2 target: hardlink target outside the root', 'ok b -> etc/passwd', '2 target: empty', '2 target: a hardlink to the root',
    ]);
  });
  it('symlink loops are reported, not followed forever', () => {
    expect(verdicts([sym('a', 'b'), sym('b', 'a'), sym('c', 'a'), name('a/x')])).toEqual([
      'ok a -> b', 'ok b -> b', '3 target: too many levels of symbolic links', '2 name: too many levels of symbolic links',
    ]);
  });
  it('a name replaces a symlink of the same path', () => {
    expect(verdicts([sym('d', '/etc'), name('d'), name('d/x')])).toEqual(['ok d -> etc', 'ok d', 'ok d/x']);
  });
  it('a link cannot replace the root', () => {
    expect(verdicts([sym('.', 'x'), hard('/', 'x')])).toEqual(['2 name: a link cannot replace the root', '2 name: a link cannot replace the root']);
  });
  it('a big batch crosses in a few calls and keeps its symlinks across them', () => {
    const items: PathItem[] = [sym('link', '/target')];
    for (let i = 0; i < 120_000; i++) items.push(name(`link/some/longer/directory/name/file-${i}`));
    const got = pathVerdicts(items);
    expect(got.length).toBe(items.length);
    expect(got.at(-1)!.path).toBe('target/some/longer/directory/name/file-119999');
  });
});
