#!/usr/bin/env node
// `npm run build` (and `npm pack`, through prepack): src/ -> dist/ with the TypeScript compiler,
// as ESM JavaScript with .d.ts declarations, so the package runs on plain Node (no tsx).
//
// The sources import each other without extensions (`../config`, `./queue`), as bundler
// resolution allows; Node's ESM loader and `moduleResolution: node16` readers of the .d.ts do
// not. The emit therefore writes every relative specifier as the file it resolves to
// (`../config.js`, `./queue/index.js`), in JavaScript and declarations alike, and fails on one
// that resolves to nothing. The Prisma client (src/generated/prisma, git-ignored) is generated
// first when it is missing or older than prisma/schema.prisma, and compiled with the rest.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist');
const stagingDir = join(root, `dist.building-${process.pid}`);

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

// --- the Prisma client ----------------------------------------------------------------------
const client = join(root, 'src/generated/prisma/client.ts');
const schema = join(root, 'prisma/schema.prisma');
if (!existsSync(client) || statSync(schema).mtimeMs > statSync(client).mtimeMs) {
  const r = spawnSync('bash', [join(root, 'scripts/prisma-generate.sh')], { stdio: 'inherit' });
  if (r.status !== 0) fail('prisma generate failed');
}

// --- relative specifiers as Node resolves them ----------------------------------------------
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts'];

/** The emitted form of `specifier` imported from `fromFile`, or undefined when it is not relative. */
function emittedSpecifier(specifier, fromFile) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  if (/\.(m?js|json)$/.test(specifier)) return specifier;
  const ts_ = specifier.match(/^(.*)\.(m?)tsx?$/);
  if (ts_) return `${ts_[1]}.${ts_[2]}js`;
  const target = resolve(dirname(fromFile), specifier);
  if (SOURCE_EXTENSIONS.some((ext) => existsSync(target + ext)) || existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (SOURCE_EXTENSIONS.some((ext) => existsSync(join(target, `index${ext}`)))) return `${specifier}/index.js`;
  throw new Error(`${fromFile}: cannot resolve import "${specifier}"`);
}

/** Rewrites import/export declarations, dynamic import() and import("…") types. */
function specifierTransformer(context) {
  const f = context.factory;
  return (sourceFile) => {
    const fromFile = sourceFile.fileName;
    const literal = (node) => {
      if (!node || !ts.isStringLiteral(node)) return undefined;
      const next = emittedSpecifier(node.text, fromFile);
      return next === undefined || next === node.text ? undefined : f.createStringLiteral(next);
    };
    const visit = (node) => {
      if (ts.isImportDeclaration(node)) {
        const s = literal(node.moduleSpecifier);
        if (s) return f.updateImportDeclaration(node, node.modifiers, node.importClause, s, node.attributes);
      } else if (ts.isExportDeclaration(node)) {
        const s = literal(node.moduleSpecifier);
        if (s) return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, s, node.attributes);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const s = literal(node.arguments[0]);
        if (s) return f.updateCallExpression(node, node.expression, node.typeArguments, [s, ...node.arguments.slice(1)]);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const s = literal(node.argument.literal);
        if (s) {
          const argument = f.updateLiteralTypeNode(node.argument, s);
          return f.updateImportTypeNode(node, argument, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

// --- compile ----------------------------------------------------------------------------------
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')) };
const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), { outDir: stagingDir }, host);
if (parsed.errors.length > 0) fail(ts.formatDiagnostics(parsed.errors, formatHost()));

function formatHost() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
}

const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) fail(`type errors:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost())}`);

rmSync(stagingDir, { recursive: true, force: true });
let result;
try {
  result = program.emit(undefined, undefined, undefined, false, { after: [specifierTransformer], afterDeclarations: [specifierTransformer] });
} catch (err) {
  rmSync(stagingDir, { recursive: true, force: true });
  fail(err.message);
}
if (result.emitSkipped || result.diagnostics.length > 0) {
  rmSync(stagingDir, { recursive: true, force: true });
  fail(`emit failed:\n${ts.formatDiagnostics(result.diagnostics, formatHost())}`);
}

// Swap the finished output in, so a concurrent reader never sees half a dist/.
rmSync(outDir, { recursive: true, force: true });
renameSync(stagingDir, outDir);
// On stderr: `npm pack --json` shares stdout with the prepack script.
console.error(`build: ${parsed.fileNames.length} files compiled to dist/`);
