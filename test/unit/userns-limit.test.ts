// The line for a user namespace the kernel refused for its limit names the sysctl.
import { describe, expect, it } from 'vitest';
import { usernsLimitLine } from '../../ts/runtime/outcome.js';

describe('user.max_user_namespaces', () => {
  it('at 0: user namespaces are off, the fix is the sysctl', () => {
    expect(usernsLimitLine(28, '0')).toBe('user namespaces are disabled here (sysctl user.max_user_namespaces is 0): as root, sysctl -w user.max_user_namespaces=15000');
    expect(usernsLimitLine(1, '0')).toMatch(/^user namespaces are disabled here/);
  });
  it('reached: ENOSPC names the limit; other refusals are not about it', () => {
    expect(usernsLimitLine(28, '96362')).toMatch(/^the limit of user namespaces is reached \(sysctl user.max_user_namespaces is 96362\)/);
    expect(usernsLimitLine(1, '96362')).toBeUndefined();
    expect(usernsLimitLine(22, '0')).toBeUndefined();
  });
});
