// What husk prints for a person outside its error reporter is one line per row too: a command,
// a path or a process's cmdline with a newline in it cannot forge a row of `ps`, `top` or
// `husk plan`, or a second line after "plan saved to".
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, removeAllContainers, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });
const dir = suiteDir('output-lines');

const FORGED = 'forged';

describe('user text on stdout and stderr stays on its line', () => {
  it('ps and top show a command with a newline escaped, on one row', () => {
    // The newline comes before ps cuts the command at 20 characters; sh has a line after sleep
    // to run, so it waits for it and its own cmdline (with the newline) is in top.
    const run = husk(root, ['run', '--network', 'none', '-d', '--name', 'x', 'host', 'sh', '-c', `sleep 30 #\n${FORGED}`]);
    expect(run.status, run.stderr).toBe(0);
    try {
      const ps = husk(root, ['ps']);
      expect(ps.status, ps.stderr).toBe(0);
      const rows = ps.stdout.trimEnd().split('\n');
      expect(rows).toHaveLength(2); // the header and the container, no forged row
      expect(rows[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+NAMES$/);
      expect(rows[1]).toMatch(/^[0-9a-f]{12}\s+host\s+"sh -c sleep 30 #\\nf…"\s+.*Up .*\s+x$/);

      const top = husk(root, ['top', 'x']);
      expect(top.status, top.stderr).toBe(0);
      const lines = top.stdout.trimEnd().split('\n');
      // top shows control characters as ps does ('?'); the table escapes whatever else is left.
      expect(lines.some((l) => l.endsWith(`sh -c sleep 30 #?${FORGED}`))).toBe(true);
      expect(lines.filter((l) => l.startsWith(FORGED))).toEqual([]);
      expect(lines.slice(1).every((l) => /^\S+\s+\d+\s+\d+\s/.test(l))).toBe(true);
    } finally {
      expect(husk(root, ['rm', '-f', 'x']).status).toBe(0);
    }
  });

  it('ps --format json keeps the command as given (JSON escapes it itself)', () => {
    const run = husk(root, ['run', '--network', 'none', '-d', '--name', 'j', 'host', 'sh', '-c', `sleep 30 #\n${FORGED}`]);
    expect(run.status, run.stderr).toBe(0);
    try {
      const ps = husk(root, ['ps', '--format', 'json']);
      const lines = ps.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]).Command).toBe(`"sh -c sleep 30 #\n${FORGED}"`);
    } finally {
      expect(husk(root, ['rm', '-f', 'j']).status).toBe(0);
    }
  });

  it('plan --save names a path with a newline on one line', () => {
    const file = join(dir, `p\n${FORGED}`);
    const r = husk(root, ['plan', '--network', 'none', '--save', file, 'host', 'true']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    const shown = `${dir}/p\\n${FORGED}`;
    expect(r.stderr).toBe(`plan saved to ${shown}; run it with: husk-launcher < ${shown}\n`);
  });

  it('plan prints a rootfs path with a newline inside its op line', () => {
    const rootfs = join(dir, `r\n${FORGED}`);
    mkdirSync(rootfs, { recursive: true });
    const r = husk(root, ['plan', '--network', 'none', '--rootfs', rootfs, 'sh']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^plan v1, \d+ ops/);
    expect(lines.slice(1).every((l) => /^ *\d+ {2}(launcher|monitor|container) +\S/.test(l))).toBe(true);
    expect(r.stdout).toContain(`r\\n${FORGED}`);
  });
});
