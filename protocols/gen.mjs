// Generates static protobuf code from protocols/proto/*.proto with protobufjs-cli.
// Output goes to protocols/gen/ (ignored by git, never hand-edited); run by `npm run gen`,
// `npm install` (prepare) and `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const protoDir = join(here, 'proto');
const outDir = join(here, 'gen');
const outJs = join(outDir, 'vigil.js');
const outDts = join(outDir, 'vigil.d.ts');
const sources = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).map((f) => join(protoDir, f));
const bin = join(here, '..', 'node_modules', 'protobufjs-cli', 'bin');
if (!existsSync(bin)) {
  console.error('gen: protobufjs-cli is not installed; run `npm install` first');
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}
const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (existsSync(outJs) && existsSync(outDts) && statSync(outDts).mtimeMs >= newest) process.exit(0);
mkdirSync(outDir, { recursive: true });
execFileSync(process.execPath, [join(bin, 'pbjs'), '-t', 'static-module', '-w', 'es6', '--es6', '--force-number', '-o', outJs, ...sources], { stdio: 'inherit' });
execFileSync(process.execPath, [join(bin, 'pbts'), '-o', outDts, outJs], { stdio: 'inherit' });
console.error(`gen: wrote ${outJs} and ${outDts}`);
