// The tests themselves: every test under test/ has a title no other test has (vitest's reports
// and -t filters often show the title alone, so two tests of one title cannot be told apart,
// even under different describes; table-driven titles such as '%s' are left to their tables),
// and every test body states an
// expectation (expect…, an expect* helper, or fast-check's assert), so none passes by
// asserting nothing. Read from the source with the TypeScript parser; nothing is run.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const testDir = new URL('../', import.meta.url).pathname;
/** Calls that make a test able to fail. */
const EXPECTATION = /\bexpect\w*\s*[(.]|\bfc\.assert\s*\(/;

interface TestCase {
  file: string;
  line: number;
  title: string;
  name: string; // describe path and title
  body: string;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** `it`/`test` calls (with .each, .skip, .only…) under their `describe` titles. */
export function casesOf(file: string, source: string): TestCase[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: TestCase[] = [];
  const visit = (node: ts.Node, path: string[]): void => {
    if (ts.isCallExpression(node)) {
      // it('t', fn), it.skip('t', fn), or it.each(table)('t', fn)
      const callee = ts.isCallExpression(node.expression) ? node.expression.expression : node.expression;
      const base = callee.getText(sf).split('.')[0];
      const [title, fn] = node.arguments;
      if ((base === 'describe' || base === 'it' || base === 'test') && title && (ts.isStringLiteralLike(title) || ts.isTemplateExpression(title))) {
        const text = ts.isStringLiteralLike(title) ? title.text : title.getText(sf).slice(1, -1);
        if (base === 'describe') {
          for (const a of node.arguments.slice(1)) visit(a, [...path, text]);
        } else {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          out.push({ file, line, title: text, name: [...path, text].join(' > '), body: fn ? fn.getText(sf) : '' });
        }
        return;
      }
    }
    ts.forEachChild(node, (c) => visit(c, path));
  };
  visit(sf, []);
  return out;
}

const cases = testFiles(testDir).flatMap((f) => casesOf(relative(testDir, f), readFileSync(f, 'utf8')));

describe('the test suites', () => {
  it('are found: the parser sees the tests of every suite', () => {
    expect(cases.length).toBeGreaterThan(300);
    const dirs = new Set(cases.map((c) => c.file.split('/')[0]));
    for (const d of ['integration', 'property', 'unit']) expect(dirs, d).toContain(d);
  });

  it('give every test a title of its own', () => {
    const where = new Map<string, string[]>();
    for (const c of cases) {
      if (c.title.includes('%') || c.title.includes('${')) continue; // one title a row of a table
      where.set(c.title, [...(where.get(c.title) ?? []), `${c.file}:${c.line} ${c.name}`]);
    }
    const repeated = [...where].filter(([, at]) => at.length > 1).map(([title, at]) => `"${title}" at ${at.join('; ')}`);
    expect(repeated).toEqual([]);
  });

  it('state an expectation in every test', () => {
    const empty = cases.filter((c) => !EXPECTATION.test(c.body)).map((c) => `${c.file}:${c.line} ${c.name}`);
    expect(empty).toEqual([]);
  });

  it('would catch a repeated name and a test without an expectation', () => {
    const bad = casesOf('bad.test.ts', `describe('d', () => { it('t', () => { run(); }); describe('e', () => { it('t', () => { expect(1).toBe(1); }); }); });`);
    expect(bad.map((c) => c.name)).toEqual(['d > t', 'd > e > t']);
    expect(bad.map((c) => c.title)).toEqual(['t', 't']);
    expect(bad.map((c) => EXPECTATION.test(c.body))).toEqual([false, true]);
  });
});
