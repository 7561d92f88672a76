/**
 * npm run bench:growth (issue 11 goal 5): from fake bench reports at several record counts, the
 * growth data, the markdown table and verdicts, the SVG chart's points (log-scale x, log-scale
 * latency, linear req/s), reading the per-size reports back (--from-reports) and the database plan.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  databaseProblem,
  defaultDatabase,
  growthData,
  growthSection,
  parseDatabases,
  patternVerdict,
  readGrowthReports,
  renderGrowthMarkdown,
  renderGrowthSvg,
  seqScanRows,
  sizeLabel,
  type GrowthInputPattern,
  type GrowthInputReport,
} from '../bench/growth-report.js';
import type { Report } from '../bench/report.js';

// A real report.json must satisfy what the growth module reads (a compile-time check).
const compatible: (r: Report) => GrowthInputReport = (r) => r;
void compatible;

const summary = (median: number) => ({
  n: 30,
  median,
  p95: median * 1.5,
  p99: median * 2,
  min: 1,
  max: 1,
  mean: 1,
});

function pattern(
  key: string,
  median: number,
  buffers = 100,
  rows = 1000,
  seqScans: string[] = [],
): GrowthInputPattern {
  return {
    key,
    title: `${key} title`,
    graphql: summary(median),
    sql: summary(median / 2),
    rows,
    explain: {
      perStatement: [
        {
          plan: {
            shape: `Limit rows=${rows} → Index Scan using idx on pfa_mirror rows=${rows}`,
            seqScans,
            sharedHitBlocks: buffers,
            sharedReadBlocks: 0,
          },
        },
      ],
    },
    background: { othersPercent: 2 },
    limiting: `SQL execution — ${key}`,
  };
}

function report(
  records: number,
  medians: Record<string, number>,
  rps: Record<string, number>,
  startedAt = '2026-12-01T10:00:00.000Z',
): GrowthInputReport {
  return {
    startedAt,
    durationSeconds: 120,
    sizes: { records, orgs: 12, drafts: records / 100, committed: records / 1000 },
    prepared: { reused: true, seconds: 0.1 },
    machine: { commit: 'abc1234', cpus: 2 },
    options: { iterations: 30, warmup: 3, loadSeconds: 10, connections: 16 },
    session: { drafts: 50 },
    backgroundBefore: { othersPercent: 1 },
    patterns: Object.entries(medians).map(([k, v]) =>
      // search reads 30× more buffers at 3M than at 100K, and a sequential scan grows with the data.
      k === 'search'
        ? pattern(k, v, records / 1000, 1000, [`pfa_modification rows=10 removed=${records / 100}`])
        : pattern(k, v),
    ),
    loads: Object.entries(rps).map(([title, v]) => ({
      title,
      connections: 16,
      seconds: 10,
      requestsPerSecond: v,
      latencyMs: { p50: 10, p95: 20 },
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      graphqlErrors: 0,
      resources: { othersPercent: 3 },
    })),
  };
}

// kpi stays flat (10 → 11 ms), search grows about linearly with the organization (30× the data).
const REPORTS = [
  report(3_000_000, { kpi: 11, search: 300 }, { 'grid-100 · 1 process': 150, 'kpiSummary · 1 process': 600 }),
  report(100_000, { kpi: 10, search: 10 }, { 'grid-100 · 1 process': 300, 'kpiSummary · 1 process': 620 }),
  report(1_000_000, { kpi: 10.5, search: 100 }, { 'grid-100 · 1 process': 200 }),
];

/** The circles of one series in one panel: [records, cx, cy, value]. */
function points(
  svg: string,
  panel: string,
  series: string,
): { records: number; x: number; y: number; value: number }[] {
  const panelText = svg.split('<g class="panel"').find((p) => p.startsWith(` data-panel="${panel}"`));
  if (!panelText) throw new Error(`no panel ${panel}`);
  const start = panelText.indexOf(`data-series="${series}"`);
  if (start < 0) throw new Error(`no series ${series}`);
  const group = panelText.slice(start, panelText.indexOf('</g>', start));
  return [
    ...group.matchAll(
      /<circle cx="([\d.]+)" cy="([\d.]+)" r="[\d.]+" fill="[^"]+" data-records="(\d+)" data-value="([\d.]+)"/g,
    ),
  ].map((m) => ({ x: Number(m[1]), y: Number(m[2]), records: Number(m[3]), value: Number(m[4]) }));
}

describe('bench:growth data and outputs', () => {
  const data = growthData(REPORTS, new Date('2026-12-01T12:00:00Z'));

  it('orders the sizes, counts HOLNG at each and keeps patterns and loads per size', () => {
    expect(data.sizes.map((s) => s.records)).toEqual([100_000, 1_000_000, 3_000_000]);
    // HOLNG is 20% of the seed's records.
    expect(data.sizes.map((s) => s.orgRecords)).toEqual([20_000, 200_000, 600_000]);
    expect(data.patterns.map((p) => p.key).sort()).toEqual(['kpi', 'search']);
    const kpi = data.patterns.find((p) => p.key === 'kpi');
    expect(kpi?.cells.map((c) => c?.median)).toEqual([10, 10.5, 11]);
    const kpiLoad = data.loads.find((l) => l.key === 'kpiSummary · 1 process');
    expect(kpiLoad?.cells.map((c) => c?.requestsPerSecond ?? null)).toEqual([620, null, 600]);
  });

  it('keeps the latest report when two share a size', () => {
    const later = report(100_000, { kpi: 99, search: 10 }, {}, '2026-12-02T10:00:00.000Z');
    const d = growthData([...REPORTS, later]);
    expect(d.sizes).toHaveLength(3);
    expect(d.patterns.find((p) => p.key === 'kpi')?.cells[0]?.median).toBe(99);
  });

  it('calls a pattern flat by the ratio of its largest to smallest median, with the evidence', () => {
    const kpi = patternVerdict(
      data,
      data.patterns.find((p) => p.key === 'kpi')!,
    );
    expect(kpi.flat).toBe(true);
    expect(kpi.ratio).toBeCloseTo(1.1, 6);
    const search = patternVerdict(
      data,
      data.patterns.find((p) => p.key === 'search')!,
    );
    expect(search.flat).toBe(false);
    expect(search.ratio).toBeCloseTo(30, 6);
    expect(search.exponent).toBeCloseTo(1, 6);
    expect(search.note).toContain('about linearly');
    expect(search.note).toContain('100 → 3,000 buffers (×30.0): the plan reads more of the data');
    expect(search.note).toContain('sequential scans read pfa_modification 1,010 → 30,010 rows');
    expect(kpi.note).toContain('100 → 100 buffers (×1.00): the same work per request');
    expect(kpi.note).not.toContain('sequential');
    expect(seqScanRows(['a rows=1 removed=2', 'b rows=5 removed=0', 'a rows=10 removed=0'])).toEqual({
      a: 13,
      b: 5,
    });
  });

  it('renders the table: median / p95 per size, the ratio and the verdict; HOLNG sizes; loads', () => {
    const md = renderGrowthMarkdown(data, 2);
    expect(md).toContain('## How cost grows with the data');
    expect(md).toContain(
      '![Median latency per pattern and load throughput against the record count](growth.svg)',
    );
    expect(md).toContain('| pattern | 100K | 1M | 3M | 3M / 100K median | flat? |');
    expect(md).toContain('| **kpi** | 10.0 / 15.0 | 10.5 / 15.8 | 11.0 / 16.5 | ×1.10 | flat |');
    expect(md).toContain('| **search** | 10.0 / 15.0 | 100 / 150 | 300 / 450 | ×30.0 | **no** |');
    expect(md).toContain('| 100,000 | 20,000 | 1,000 / 100 | 50 |');
    expect(md).toContain('| 3,000,000 | 600,000 | 30,000 / 3,000 | 50 |');
    expect(md).toContain('| grid-100 · 1 process | 300 (20.0 ms) | 200 (20.0 ms) | 150 (20.0 ms) | ×0.50 |');
    expect(md).toContain('| kpiSummary · 1 process | 620 (20.0 ms) | — | 600 (20.0 ms) | ×0.97 |');
    expect(md).toContain('- **kpi** — flat: median 10.0 → 11.0 ms (×1.10) while HOLNG grew ×30.0');
  });

  it('draws two panels with log-scale x, log-scale latency and linear req/s', () => {
    const svg = renderGrowthSvg(data);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="panel"/g)).toHaveLength(2);
    expect((svg.match(/<g[ >]/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length);

    const kpi = points(svg, 'latency', 'kpi');
    expect(kpi.map((p) => p.records)).toEqual([100_000, 1_000_000, 3_000_000]);
    expect(kpi.map((p) => p.value)).toEqual([10, 10.5, 11]);
    const [a, b, c] = kpi as [(typeof kpi)[0], (typeof kpi)[0], (typeof kpi)[0]];
    // log x: 1M sits at log(10)/log(30) of the way from 100K to 3M.
    expect((b.x - a.x) / (c.x - a.x)).toBeCloseTo(Math.log(10) / Math.log(30), 2);
    // higher latency is drawn higher (smaller y).
    expect(a.y).toBeGreaterThan(b.y);
    expect(b.y).toBeGreaterThan(c.y);
    // log y: search ×10 then ×3 — equal ratios, equal steps: 10→100 is log(10)/log(3) of 100→300.
    const search = points(svg, 'latency', 'search');
    const [s1, s2, s3] = search as [(typeof search)[0], (typeof search)[0], (typeof search)[0]];
    expect((s1.y - s2.y) / (s2.y - s3.y)).toBeCloseTo(Math.log(10) / Math.log(3), 1);

    // linear req/s from 0: 300 is twice as far above the axis as 150; a missing size leaves a gap.
    const grid = points(svg, 'load', 'grid-100 · 1 process');
    expect(grid.map((p) => p.value)).toEqual([300, 200, 150]);
    const [g1, , g3] = grid as [(typeof grid)[0], (typeof grid)[0], (typeof grid)[0]];
    const bottom = 250;
    expect((bottom - g1.y) / (bottom - g3.y)).toBeCloseTo(2, 2);
    expect(points(svg, 'load', 'kpiSummary · 1 process').map((p) => p.records)).toEqual([100_000, 3_000_000]);
    // Same x for the same size in both panels.
    expect(grid.map((p) => p.x)).toEqual(kpi.map((p) => p.x));
  });

  it('escapes names in the SVG', () => {
    const d = growthData([report(100_000, { 'a<b&c': 5 }, {}), report(200_000, { 'a<b&c': 6 }, {})]);
    const svg = renderGrowthSvg(d);
    expect(svg).toContain('data-series="a&lt;b&amp;c"');
    expect(svg).not.toContain('a<b&c');
  });

  it('reads bench/.cache/growth-<N>/report.json back (--from-reports) and renders the section for REPORT.md', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'growth-'));
    try {
      for (const r of REPORTS) {
        mkdirSync(path.join(dir, `growth-${r.sizes.records}`));
        writeFileSync(path.join(dir, `growth-${r.sizes.records}`, 'report.json'), JSON.stringify(r));
      }
      mkdirSync(path.join(dir, 'growth-5000'));
      mkdirSync(path.join(dir, 'peer'));
      const found = readGrowthReports(dir);
      expect(found.map((f) => f.report.sizes.records)).toEqual([100_000, 1_000_000, 3_000_000]);
      expect(readGrowthReports(dir, [100_000, 3_000_000]).map((f) => f.report.sizes.records)).toEqual([
        100_000, 3_000_000,
      ]);

      const json = path.join(dir, 'growth.json');
      expect(growthSection(dir, json)).toBeNull();
      writeFileSync(json, JSON.stringify(growthData(found.map((f) => f.report))));
      const section = growthSection(dir, json);
      expect(section).toContain('](growth.svg)');
      expect(section).toContain('| **search** |');
      expect(growthSection(path.join(dir, 'sub'), json)).toContain('](../growth.svg)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench:growth databases', () => {
  it('names one database per size, pfa_bench at 1M', () => {
    expect(defaultDatabase(100_000)).toBe('pfa_bench_100k');
    expect(defaultDatabase(1_000_000)).toBe('pfa_bench');
    expect(defaultDatabase(3_000_000)).toBe('pfa_bench_3m');
    expect(defaultDatabase(2_500_000)).toBe('pfa_bench_2_5m');
    expect(sizeLabel(30_000)).toBe('30K');
    expect(parseDatabases('1000000=pfa_bench_1m,3000000=pfa_bench_x')).toEqual(
      new Map([
        [1_000_000, 'pfa_bench_1m'],
        [3_000_000, 'pfa_bench_x'],
      ]),
    );
    expect(() => parseDatabases('1M=pfa_bench')).toThrow();
  });

  it('refuses a shared database at another size or with --fresh', () => {
    expect(databaseProblem(1_000_000, 'pfa_bench', false)).toBeNull();
    expect(databaseProblem(100_000, 'pfa_bench', false)).toMatch(/may only run at 1,000,000/);
    expect(databaseProblem(100_000, 'pfa_bench2', false)).not.toBeNull();
    expect(databaseProblem(100_000, 'postgres', false)).not.toBeNull();
    expect(databaseProblem(1_000_000, 'pfa_bench', true)).toMatch(/--fresh/);
    expect(databaseProblem(100_000, 'pfa_bench_100k', true)).toBeNull();
  });
});
