import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from '../support/direct';

// The README is the front door and docs/ the guide. Every relative link in them must reach a file
// of the repository, and every #anchor a heading of the page it names, as GitHub renders them.

const README_MAX_LINES = 300;

/** Replaces every character of `s` but newlines with a space, so offsets keep their line numbers. */
const blank = (s: string) => s.replace(/[^\n]/g, ' ');

/** The Markdown with its fenced code blocks (fence lines included) and HTML comments blanked out. */
export function withoutFences(md: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of md.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && m) {
      fence = m[1];
      out.push(blank(line));
    } else if (fence !== undefined) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = undefined;
      out.push(blank(line));
    } else {
      out.push(line);
    }
  }
  return out.join('\n').replace(/<!--[\s\S]*?-->/g, blank);
}

/** `withoutFences`, and inline code spans blanked too (a span ends at the next run of as many
 * backticks, within its paragraph; an unmatched run is literal text). */
export function withoutCode(md: string): string {
  const s = withoutFences(md);
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] !== '`') {
      out += s[i++];
      continue;
    }
    let n = 0;
    while (s[i + n] === '`') n++;
    let end = -1;
    for (let j = i + n; j < s.length; ) {
      if (s[j] === '\n' && /^\n[ \t]*\n/.test(s.slice(j))) break; // a blank line ends the paragraph
      if (s[j] !== '`') {
        j++;
        continue;
      }
      let k = 0;
      while (s[j + k] === '`') k++;
      if (k === n) {
        end = j + k;
        break;
      }
      j += k;
    }
    if (end < 0) {
      out += s.slice(i, i + n);
      i += n;
    } else {
      out += blank(s.slice(i, end));
      i = end;
    }
  }
  return out;
}

/** GitHub's anchor for a heading's text: the rendered text lowercased, every character other than a
 * letter, digit, space, hyphen or underscore removed, each space a hyphen. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/`/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** The anchors of a page: its ATX headings' slugs (a repeated slug gets -1, -2, … as on GitHub),
 * and the ids and names of its HTML anchors. */
export function anchorsOf(md: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(md).split('\n')) {
    const h = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h) {
      const base = slug(h[1] ?? '');
      let s = base;
      while (seen.has(s)) {
        const n = seen.get(base)! + 1;
        seen.set(base, n);
        s = `${base}-${n}`;
      }
      seen.set(s, 0);
      anchors.add(s);
    }
    for (const a of line.matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(a[1]);
  }
  return anchors;
}

export interface Link {
  target: string;
  line: number;
}

/** Every link target of a page outside code: inline links and images `[text](target "title")`,
 * reference definitions `[label]: target`, and `<a href>` / `<img src>`. */
export function linksOf(md: string): Link[] {
  const s = withoutCode(md);
  const lineAt = (offset: number) => s.slice(0, offset).split('\n').length;
  const found: { target: string; at: number }[] = [];
  const inline = /!?\[((?:[^[\]]|\[[^[\]]*\])*)\]\(\s*(<[^>\n]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (const m of s.matchAll(inline)) found.push({ target: m[2], at: m.index! });
  for (const m of s.matchAll(/^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm)) found.push({ target: m[1], at: m.index! });
  for (const m of s.matchAll(/<(?:a|img)\s[^>]*\b(?:href|src)\s*=\s*["']([^"']*)["']/gi)) found.push({ target: m[1], at: m.index! });
  return found
    .map(({ target, at }) => ({ target: target.replace(/^<(.*)>$/, '$1'), line: lineAt(at) }))
    .sort((a, b) => a.line - b.line);
}

const external = (target: string) => /^(https?:|mailto:)/i.test(target);

/** What is wrong with the links of `page` (a path relative to `root`): one line per broken link. */
export function brokenLinks(root: string, page: string): string[] {
  const file = join(root, page);
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, 'utf8')));
    return anchorCache.get(path)!;
  };
  for (const { target, line } of linksOf(readFileSync(file, 'utf8'))) {
    if (external(target)) continue;
    const where = `${page}:${line}: (${target})`;
    if (target === '') {
      problems.push(`${where} an empty link`);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      problems.push(`${where} a scheme this check does not follow`);
      continue;
    }
    const hash = target.indexOf('#');
    const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    let dest = file;
    if (pathPart !== '') {
      const decoded = decodeURIComponent(pathPart);
      dest = decoded.startsWith('/') ? join(root, decoded) : resolve(dirname(file), decoded);
      const inside = relative(root, dest);
      if (inside === '..' || inside.startsWith(`..${sep}`)) {
        problems.push(`${where} points outside the repository`);
        continue;
      }
      if (!existsSync(dest)) {
        problems.push(`${where} no such file: ${relative(root, dest) || '.'}`);
        continue;
      }
    }
    // Anchors are checked on Markdown pages; a file's line anchors (#L10) are left to GitHub.
    if (anchor !== undefined && dest.endsWith('.md')) {
      if (anchor === '') problems.push(`${where} an empty anchor`);
      else if (!anchors(dest).has(anchor)) problems.push(`${where} no heading '#${anchor}' in ${relative(root, dest)}`);
    }
  }
  return problems;
}

/** README.md and every .md under docs/, relative to `root`. */
export function pagesOf(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) return walk(path);
      return e.isFile() && e.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...walk('docs').sort()];
}

/** Lines as `wc -l` counts them, and a last line without a newline too. */
const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

test("slugs follow GitHub's rule: lowercase, punctuation gone, spaces to hyphens", () => {
  assert.equal(slug('Scaling out: Redis Cluster, Sentinel, autoscaling'), 'scaling-out-redis-cluster-sentinel-autoscaling');
  assert.equal(slug('Under drift: `npm run bench -- --drift`'), 'under-drift-npm-run-bench------drift');
  assert.equal(slug('Limits, deadlines and priorities'), 'limits-deadlines-and-priorities');
  assert.equal(slug("What's new? (v2)"), 'whats-new-v2');
  assert.equal(slug('snake_case and  two spaces'), 'snake_case-and--two-spaces');
  assert.equal(slug('See [the API](api.md) <em>now</em>'), 'see-the-api-now');
  assert.equal(slug('Ünïcode Ωmega 3×3'), 'ünïcode-ωmega-33');
});

test('repeated headings get -1, -2, … and HTML anchors count; headings in code do not', () => {
  const page = ['# Notes', '## Notes', '## Notes ##', '<a id="custom"></a>', '```sh', '# not a heading', '```', '## Notes-1'].join('\n');
  assert.deepEqual([...anchorsOf(page)].sort(), ['custom', 'notes', 'notes-1', 'notes-1-1', 'notes-2'].sort());
});

test('links are found outside code only, with their lines', () => {
  const page = [
    'See [the API](docs/api.md#errors) and ![a chart](bench/x.svg "title").',
    '`[not](a-link.md)` and ``[nor](this.md)``; [a web page](https://example.com), [mail](mailto:a@b.c)',
    '```md',
    '[inside a fence](nope.md)',
    '```',
    '   ~~~',
    '   [indented fence](nope.md)',
    '   ~~~',
    '<!-- [a comment](nope.md) -->',
    '[text over',
    'two lines](two.md) <a href="html.md#x">h</a>',
    '[ref]: ref.md',
  ].join('\n');
  assert.deepEqual(linksOf(page), [
    { target: 'docs/api.md#errors', line: 1 },
    { target: 'bench/x.svg', line: 1 },
    { target: 'https://example.com', line: 2 },
    { target: 'mailto:a@b.c', line: 2 },
    { target: 'two.md', line: 10 },
    { target: 'html.md#x', line: 11 },
    { target: 'ref.md', line: 12 },
  ]);
});

test('a missing file, a missing anchor and a link out of the repository are reported', () => {
  const root = mkdtempSync(join(tmpdir(), 'outlet-doc-links-'));
  try {
    mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
    writeFileSync(join(root, 'docs', 'bench', 'x.txt'), 'x\n');
    writeFileSync(
      join(root, 'docs', 'api.md'),
      ['# The API', '', '## Errors', '', '[ok](bench/x.txt) [ok](../README.md#outlet) [ok](#errors) [ok](/docs/api.md)'].join('\n'),
    );
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Outlet',
        '[ok](docs/api.md#errors) [ok](#outlet) [ok](docs/bench/x.txt#L1) [web](https://example.com/nowhere)',
        '[gone](docs/gone.md) [no anchor](docs/api.md#nope) [here](#nowhere) [out](../x.md)',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks(root, 'docs/api.md'), []);
    assert.deepEqual(brokenLinks(root, 'README.md'), [
      'README.md:3: (docs/gone.md) no such file: docs/gone.md',
      "README.md:3: (docs/api.md#nope) no heading '#nope' in docs/api.md",
      "README.md:3: (#nowhere) no heading '#nowhere' in README.md",
      'README.md:3: (../x.md) points outside the repository',
    ]);
    assert.deepEqual(pagesOf(root), ['README.md', 'docs/api.md']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('every link in README.md and docs/ reaches a file and a heading', () => {
  const pages = pagesOf(REPO_ROOT);
  assert.ok(pages.includes('docs/api.md') && pages.includes('docs/settings.md'), `pages found: ${pages.join(', ')}`);
  const links = pages.reduce((n, p) => n + linksOf(readFileSync(join(REPO_ROOT, p), 'utf8')).length, 0);
  assert.ok(links > 50, `only ${links} links found in ${pages.length} pages`);
  assert.deepEqual(pages.flatMap((p) => brokenLinks(REPO_ROOT, p)), []);
});

test(`README.md is the front door: at most ${README_MAX_LINES} lines, linking every page of the guide`, () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const lines = lineCount(readme);
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines, more than ${README_MAX_LINES}: move the detail to docs/`);
  const linked = new Set(linksOf(readme).map((l) => l.target.replace(/#.*$/, '')));
  const guide = readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  assert.deepEqual(guide.filter((f) => !linked.has(`docs/${f}`)), [], 'pages of docs/ the README does not link');
});
