/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BADGE_TONES } from './badgeTones';
import { AA_TEXT, contrastRatio, parseColour } from './contrast';

/** The custom properties declared in a block's own body (not in blocks nested in it). */
function declarations(body: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const match of body.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) {
    vars.set(match[1], match[2].trim());
  }
  return vars;
}

/** The body of the first `{ … }` after `from` in the stylesheet, braces balanced. */
function blockAfter(source: string, from: number): string {
  const open = source.indexOf('{', from);
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '{') depth++;
    if (source[i] === '}' && --depth === 0) return source.slice(open + 1, i);
  }
  throw new Error('Unbalanced braces in index.css');
}

// The stylesheet itself, as the browser gets it (Vitest hands CSS imports over empty).
const css = readFileSync(join(import.meta.dirname, '../index.css'), 'utf8');
const lightStart = css.search(/^:root\s*\{/m);
const darkStart = css.search(/^@media \(prefers-color-scheme: dark\)\s*\{/m);
const light = declarations(blockAfter(css, lightStart));
const darkOwn = declarations(blockAfter(blockAfter(css, darkStart), 0));
const dark = new Map([...light, ...darkOwn]);
const palettes = { light, dark } as const;

function colour(palette: Map<string, string>, name: string): string {
  const value = palette.get(name);
  if (value === undefined) throw new Error(`${name} is not declared`);
  return value;
}

/** Text and the surfaces it is drawn on across the dashboard, besides the badges. */
const TEXT_PAIRS: [string, string][] = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--text', '--surface-muted'],
  ['--text', '--primary-soft'],
  ['--text-muted', '--bg'],
  ['--text-muted', '--surface'],
  ['--text-muted', '--surface-muted'],
  ['--text-muted', '--surface-hover'],
  ['--text-muted', '--primary-soft'],
  ['--text', '--diff-old'],
  ['--text', '--diff-new'],
  ['--link', '--surface'],
  ['--link', '--bg'],
  ['--link', '--primary-soft'],
  ['--link', '--surface-muted'],
  ['--on-primary', '--primary'],
  ['--on-primary', '--primary-hover'],
  ['--on-primary', '--danger-fill'],
  ['--on-primary', '--danger-fill-hover'],
  ['--danger', '--surface'],
  ['--danger', '--surface-muted'],
  ['--danger', '--danger-soft'],
  ['--danger-text', '--danger-soft'],
  ['--info-text', '--primary-soft'],
];

describe('the stylesheet palettes', () => {
  it('are both found, and the dark one redefines every colour the light one has', () => {
    expect(lightStart).toBeGreaterThanOrEqual(0);
    expect(darkStart).toBeGreaterThan(lightStart);
    const colours = [...light].filter(([, value]) => /^#|^rgb/.test(value)).map(([name]) => name);
    expect(colours.length).toBeGreaterThan(30);
    expect(colours.filter((name) => !darkOwn.has(name))).toEqual([]);
    expect(css).toMatch(/color-scheme:\s*light dark;/);
  });

  it('colour each badge tone from its variables', () => {
    for (const tone of BADGE_TONES) {
      const rule = blockAfter(css, css.indexOf(`.badge--${tone} {`));
      expect(rule, tone).toContain(`background: var(--badge-${tone}-bg);`);
      expect(rule, tone).toContain(`color: var(--badge-${tone}-fg);`);
      expect(rule, tone).toContain(`border-color: var(--badge-${tone}-border);`);
    }
  });

  for (const [scheme, palette] of Object.entries(palettes)) {
    it(`give every badge tone AA contrast in the ${scheme} scheme`, () => {
      const failing = BADGE_TONES.map((tone) => ({
        tone,
        ratio: contrastRatio(colour(palette, `--badge-${tone}-fg`), colour(palette, `--badge-${tone}-bg`)),
      })).filter(({ ratio }) => ratio < AA_TEXT);
      expect(failing).toEqual([]);
    });

    it(`give text AA contrast on its surfaces in the ${scheme} scheme`, () => {
      const failing = TEXT_PAIRS.map(([fg, bg]) => ({
        fg,
        bg,
        ratio: contrastRatio(colour(palette, fg), colour(palette, bg)),
      })).filter(({ ratio }) => ratio < AA_TEXT);
      expect(failing).toEqual([]);
    });
  }
});

describe('contrastRatio', () => {
  it('is 21 for black on white and 1 for a colour on itself', () => {
    expect(contrastRatio('#000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('rgb(90, 100, 116)', '#5a6474')).toBe(1);
  });

  it('matches published figures', () => {
    // #767676 on white is the lightest grey that passes AA: 4.54.
    expect(contrastRatio('#767676', '#fff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#777777', '#fff')).toBeLessThan(AA_TEXT);
  });

  it('refuses what it cannot read', () => {
    expect(() => parseColour('rgba(0, 0, 0, 0.5)')).toThrow(/translucent/);
    expect(() => parseColour('red')).toThrow(/Not a colour/);
    expect(parseColour('rgb(1 2 3)')).toEqual([1, 2, 3]);
  });
});
