/**
 * The two native build descriptions must agree: CMakeLists.txt (cmake-js, the C++
 * tests, the sanitizer builds) and binding.gyp (node-gyp, what `npm ci` runs) list the
 * same core and addon sources, every listed file exists, and every .cc file under
 * native/core, native/addon and native/test is built by someone.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** The arguments of `set(NAME ...)` in a CMake file, comments removed. */
function cmakeList(cmake: string, name: string): string[] {
  const uncommented = cmake
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('\n');
  const match = new RegExp(String.raw`\bset\(\s*${name}\s+([^)]*)\)`).exec(uncommented);
  if (!match?.[1]) throw new Error(`CMakeLists.txt has no set(${name} ...)`);
  return match[1].split(/\s+/).filter((word) => word.length > 0);
}

/**
 * Parses a .gyp file (a Python literal: '#' comments, single- or double-quoted
 * strings, trailing commas) by rewriting it as JSON.
 */
function parseGyp(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          value += text[i + 1] ?? '';
          i += 2;
        } else {
          value += text[i]!;
          i++;
        }
      }
      if (i >= text.length) throw new Error('unterminated string in .gyp file');
      i++;
      out += JSON.stringify(value);
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out.replace(/,(\s*[\]}])/g, '$1'));
}

interface GypTarget {
  target_name: string;
  sources?: string[];
  defines?: string[];
}
interface GypFile {
  variables?: Record<string, unknown>;
  targets: GypTarget[];
}

function gypVariableList(gyp: GypFile, name: string): string[] {
  const value = gyp.variables?.[name];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new Error(`binding.gyp has no list variable '${name}'`);
  }
  return value;
}

/** Expands `<@(var)` list references in a gyp sources list. */
function gypSources(gyp: GypFile, target: GypTarget): string[] {
  return (target.sources ?? []).flatMap((source) => {
    const ref = /^<@\((\w+)\)$/.exec(source);
    return ref?.[1] ? gypVariableList(gyp, ref[1]) : [source];
  });
}

const sorted = (list: readonly string[]): string[] => [...list].sort();
const ccFilesIn = (dir: string): string[] =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((name) => name.endsWith('.cc') || name.endsWith('.cpp'))
        .map((name) => `${dir}/${name}`)
    : [];

const cmake = read('CMakeLists.txt');
const gyp = parseGyp(read('binding.gyp')) as GypFile;

const cmakeCore = cmakeList(cmake, 'GOMAP_CORE_SOURCES');
const cmakeAddon = cmakeList(cmake, 'GOMAP_ADDON_SOURCES');
const cmakeTests = cmakeList(cmake, 'GOMAP_TEST_SOURCES');
const gypCore = gypVariableList(gyp, 'gomap_core_sources');
const gypAddon = gypVariableList(gyp, 'gomap_addon_sources');
const gypTarget = gyp.targets.find((t) => t.target_name === 'gomap');

describe('native build files', () => {
  it('binding.gyp builds the addon target "gomap" from the core and addon lists', () => {
    expect(gypTarget).toBeDefined();
    expect(sorted(gypSources(gyp, gypTarget!))).toEqual(sorted([...gypCore, ...gypAddon]));
  });

  it('CMakeLists.txt and binding.gyp list the same core sources', () => {
    expect(cmakeCore.length).toBeGreaterThan(0);
    expect(sorted(gypCore)).toEqual(sorted(cmakeCore));
  });

  it('CMakeLists.txt and binding.gyp list the same addon sources', () => {
    expect(cmakeAddon.length).toBeGreaterThan(0);
    expect(sorted(gypAddon)).toEqual(sorted(cmakeAddon));
  });

  it('no source is listed twice', () => {
    for (const list of [cmakeCore, cmakeAddon, cmakeTests, gypCore, gypAddon]) {
      expect(new Set(list).size).toBe(list.length);
    }
  });

  it('every listed source file exists', () => {
    const missing = [...cmakeCore, ...cmakeAddon, ...cmakeTests, ...gypCore, ...gypAddon].filter(
      (file) => !existsSync(join(root, file)),
    );
    expect(missing).toEqual([]);
  });

  it('every .cc file in native/core, native/addon and native/test is listed', () => {
    expect(sorted(ccFilesIn('native/core'))).toEqual(sorted(cmakeCore));
    expect(sorted(ccFilesIn('native/addon'))).toEqual(sorted(cmakeAddon));
    expect(sorted(ccFilesIn('native/test'))).toEqual(sorted(cmakeTests));
  });

  it('both builds target Node-API 8, as package.json declares', () => {
    const pkg = JSON.parse(read('package.json')) as { binary?: { napi_versions?: number[] } };
    expect(pkg.binary?.napi_versions).toEqual([8]);
    expect(gypTarget?.defines).toContain('NAPI_VERSION=8');
    expect(cmake).toMatch(/\bNAPI_VERSION=8\b/);
  });
});
