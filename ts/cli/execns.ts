// exec, enter, ns and pod: the commands that work with namespaces that exist.
import type { ExecNsCommand } from './args-execns.js';

export async function execNsCommand(cmd: ExecNsCommand): Promise<number> {
  switch (cmd.name) {
    case 'exec': {
      const { execCommand } = await import('../runtime/exec.js');
      return await execCommand(cmd.global.root, cmd.flags);
    }
  }
}
