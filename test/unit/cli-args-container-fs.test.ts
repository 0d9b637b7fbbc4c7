// The command lines of diff, commit, export and cp, and --entrypoint: parsed as docker's.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { parseCpPath } from '../../ts/cli/args-container-fs.js';

describe('husk cp paths', () => {
  it.each([
    ['box:/etc/passwd', { container: 'box', path: '/etc/passwd' }],
    ['box:relative', { container: 'box', path: 'relative' }],
    ['./local:with-colon', { path: './local:with-colon' }],
    ['/abs/path', { path: '/abs/path' }],
    [':odd', { path: ':odd' }],
  ])('%s', (arg, want) => {
    expect(parseCpPath(arg)).toEqual(want);
  });

  it('needs exactly one side in a container', () => {
    expect(() => parseArgs(['cp', 'a', 'b'])).toThrow(/one of the two paths must be CONTAINER:PATH/);
    expect(() => parseArgs(['cp', 'a:/x', 'b:/y'])).toThrow(/between two containers is not supported/);
    expect(parseArgs(['cp', '-L', 'box:/x', '/tmp/y'])).toMatchObject({ name: 'cp', followLink: true, from: { container: 'box', path: '/x' }, to: { path: '/tmp/y' } });
  });
});

describe('diff, commit, export', () => {
  it('take their container and flags', () => {
    expect(parseArgs(['diff', 'box'])).toMatchObject({ name: 'diff', target: 'box' });
    expect(parseArgs(['commit', '-m', 'msg', '--author=me', 'box', 'repo:tag'])).toMatchObject({ name: 'commit', target: 'box', ref: 'repo:tag', message: 'msg', author: 'me' });
    expect(parseArgs(['export', '-o', 'out.tar', 'box'])).toMatchObject({ name: 'export', target: 'box', output: 'out.tar' });
    expect(() => parseArgs(['diff'])).toThrow(/"husk diff" requires CONTAINER/);
    expect(() => parseArgs(['export', '--bogus', 'box'])).toThrow(/unknown flag: --bogus/);
  });
});

describe('run IMAGE without a command', () => {
  it('is allowed for a store image (its Cmd runs), not for host or --rootfs', () => {
    expect(parseArgs(['run', 'alpine'])).toMatchObject({ name: 'run', flags: { image: 'alpine', argv: [] } });
    expect(parseArgs(['run', '--entrypoint', '', 'alpine', 'echo'])).toMatchObject({ flags: { entrypoint: '', argv: ['echo'] } });
    expect(() => parseArgs(['run', 'host'])).toThrow(/requires a command/);
    expect(() => parseArgs(['run', '--entrypoint', 'x', 'host', 'true'])).toThrow(/--entrypoint needs an image from the store/);
  });
});
