// The one reporter: every error a person reads is one line, control characters escaped.
import { describe, expect, it } from 'vitest';
import { HuskError, escapeControls, messageOf, reportText } from '../../ts/errors.js';

describe('escapeControls', () => {
  it('leaves ordinary text (backslashes and non-ASCII too) as it is', () => {
    expect(escapeControls('rootfs /tmp/x: no such file or directory')).toBe('rootfs /tmp/x: no such file or directory');
    expect(escapeControls('a\\nb é 日本')).toBe('a\\nb é 日本');
  });
  it('escapes line breaks, terminal escapes and every other control character', () => {
    expect(escapeControls('/tmp/x\nhusk: forged')).toBe('/tmp/x\\nhusk: forged');
    expect(escapeControls('a\rb\tc')).toBe('a\\rb\\tc');
    expect(escapeControls('\x1b[31mred\x00\x7f')).toBe('\\x1b[31mred\\x00\\x7f');
    expect(escapeControls('csi\u009b2J')).toBe('csi\\x9b2J');
    expect(escapeControls('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    for (let c = 0; c < 0x20; c++) expect(escapeControls(String.fromCharCode(c))).not.toMatch(/[\x00-\x1f]/);
  });
  it('gives the same answer twice in a row (no regex state carried over)', () => {
    expect(escapeControls('a\nb')).toBe('a\\nb');
    expect(escapeControls('c\nd')).toBe('c\\nd');
  });
});

describe('the reporter', () => {
  it('prints a HuskError carrying a newline on one line, its hint on the next', () => {
    const err = new HuskError('rootfs', 'rootfs /tmp/x\nhusk: forged: no such file or directory', { hint: 'hint\nforged' });
    expect(messageOf(err)).toBe('rootfs /tmp/x\\nhusk: forged: no such file or directory');
    expect(reportText(err)).toBe('husk: rootfs /tmp/x\\nhusk: forged: no such file or directory\nhint\\nforged\n');
  });
  it('escapes errors that are not HuskErrors too', () => {
    expect(reportText(new Error('bad\nline'))).toBe('husk: internal error: bad\\nline\n');
    expect(reportText('s\n')).toBe('husk: internal error: s\\n\n');
  });
});
