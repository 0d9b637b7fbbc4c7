import { describe, expect, it } from 'vitest';
import { parseRegistryCommand } from '../../ts/cli/args-registry.js';

const g = { root: '/run/husk' };

describe('pull, push, login and logout command lines', () => {
  it('reads pull with docker and podman flags', () => {
    expect(parseRegistryCommand('pull', ['--platform', 'linux/arm64', '--tls-verify=false', '-q', 'alpine'], g)).toMatchObject({
      name: 'pull', ref: 'alpine', platform: 'linux/arm64', tlsVerify: false, quiet: true, format: 'text',
    });
    expect(parseRegistryCommand('pull', ['alpine', '--format', 'json', '--tls-verify'], g)).toMatchObject({ tlsVerify: true, format: 'json' });
  });

  it('refuses a wrong flag, value or count of names with a usage error', () => {
    expect(() => parseRegistryCommand('pull', [], g)).toThrow('"husk pull" requires NAME[:TAG|@DIGEST]');
    expect(() => parseRegistryCommand('pull', ['a', 'b'], g)).toThrow(/takes NAME/);
    expect(() => parseRegistryCommand('pull', ['--tls-verify=maybe', 'a'], g)).toThrow(/expected true or false/);
    expect(() => parseRegistryCommand('pull', ['--bogus', 'a'], g)).toThrow('unknown flag: --bogus');
    expect(() => parseRegistryCommand('push', ['--format', 'yaml', 'a'], g)).toThrow(/--format/);
  });

  it('reads login as docker does, and wants a username with --password-stdin', () => {
    expect(parseRegistryCommand('login', ['-u', 'me', '--password-stdin', '127.0.0.1:5000'], g)).toMatchObject({ registry: '127.0.0.1:5000', username: 'me', passwordStdin: true });
    expect(parseRegistryCommand('login', ['-u', 'me', '-p', 'pw'], g)).toMatchObject({ registry: 'docker.io', password: 'pw' });
    expect(() => parseRegistryCommand('login', ['--password-stdin', 'r'], g)).toThrow(/--username/);
    expect(() => parseRegistryCommand('login', ['-u', 'a', '-p', 'b', '--password-stdin', 'r'], g)).toThrow(/mutually exclusive/);
    expect(parseRegistryCommand('logout', ['--help'], g)).toEqual({ name: 'help', topic: 'logout' });
  });
});
