// husk-runc's lines for people: on stderr, and in --log (text or JSON, runc's logrus shapes).
import { appendFileSync } from 'node:fs';
import type { RuncGlobal } from './args.js';
import { escapeControls } from '../errors.js';

export function log(global: RuncGlobal | undefined, level: 'error' | 'warning' | 'debug', msg: string): void {
  if (global?.log === undefined) return;
  const time = new Date().toISOString();
  const line = global.logFormat === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  try {
    appendFileSync(global.log, `${line}\n`);
  } catch {
    // a log we cannot write must not hide the error itself
  }
}

/** What husk-runc ignored, as runc ignores it: one line on stderr and in --log. */
export function warn(global: RuncGlobal | undefined, msg: string): void {
  const line = escapeControls(msg);
  log(global, 'warning', line);
  process.stderr.write(`husk-runc: warning: ${line}\n`);
}
