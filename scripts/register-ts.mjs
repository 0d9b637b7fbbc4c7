// `import './register-ts.mjs'` first, then `await import('../ts/....ts')` works (see ts-hooks.mjs).
import { register } from 'node:module';

register(new URL('./ts-hooks.mjs', import.meta.url));
