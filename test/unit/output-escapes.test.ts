// Text husk prints for a person outside the error reporter (ps and top tables, plan lines)
// escapes control characters too: a value with a newline in it stays on its row.
import { describe, expect, it } from 'vitest';
import { commandText, formatTable } from '../../ts/cli/ps.js';
import { statsTable } from '../../ts/cli/stats.js';
import { describeOp } from '../../ts/protocol/describe.js';

describe('tables', () => {
  it("ps's COMMAND escapes before it cuts, so the cut counts what is shown", () => {
    expect(commandText(['sh', '-c', 'a\nb'])).toBe('"sh -c a\\nb"');
    expect(commandText(['sh', '-c', 'sleep 30 #\nforged'])).toBe('"sh -c sleep 30 #\\nf…"');
    expect(commandText(['sleep', '30'])).toBe('"sleep 30"');
  });

  it('every cell is escaped: one row, one line, columns still aligned', () => {
    const out = formatTable([
      ['NAME', 'CMD'],
      ['a\nforged', 'x\u009b2J'],
      ['b', 'y'],
    ]);
    expect(out).toBe('NAME        CMD\na\\nforged   x\\x9b2J\nb           y\n');
  });

  it("stats' NAME column goes through the same table", () => {
    const stats = { cpuNs: 0, memory: undefined, blkio: undefined, pids: undefined } as never;
    const text = statsTable([{ id: 'f'.repeat(64), name: 'n\nforged', cpuPercent: 0, stats }]);
    expect(text.trimEnd().split('\n')).toHaveLength(2);
    expect(text).toContain('n\\nforged');
  });
});

describe('plan lines', () => {
  it('an op with a path or value carrying control characters stays on one line', () => {
    expect(describeOp({ name: 'CHDIR', args: { path: '/a\nforged' } })).toBe('chdir /a\\nforged');
    expect(describeOp({ name: 'MASK', args: { path: '/x\x1b[2J' } })).toBe('mask /x\\x1b[2J');
    // Quoted values (JSON quoting) keep their form; what JSON leaves (U+2028), the escape takes.
    expect(describeOp({ name: 'SETHOSTNAME', args: { name: 'a\u2028b' } })).toBe('set hostname "a\\u2028b"');
  });
});
