// Node module hooks that let scripts/ and bench/ import the TypeScript sources directly
// (ts/, test/property/): `.js` specifiers resolve to the `.ts` file beside them, and `.ts`
// files are transpiled with typescript's transpileModule (types are not checked here;
// `npm run build:ts` does that). Registered by scripts/register-ts.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && (specifier.startsWith('.') || specifier.startsWith('/'))) {
    const candidate = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: fileURLToPath(url),
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
