// Line charts as SVG through Vega-Lite (no canvas needed), for loss curves and per-layer statistics.

import type { TopLevelSpec } from 'vega-lite';

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly width?: number;
  readonly height?: number;
  readonly logY?: boolean;
  /** Marks each point too (for short series such as one value per layer). */
  readonly points?: boolean;
  /** Whole-number x ticks (layer indices). */
  readonly integerX?: boolean;
}

export async function lineChartSvg(series: readonly Series[], o: ChartOptions): Promise<string> {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 560,
    height: o.height ?? 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, ...(o.points ? { point: true } : {}) },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: o.xTitle,
        ...(o.integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: o.yTitle,
        scale: o.logY ? { type: 'log' } : { zero: false },
      },
      // Long series names ("poisoned output layer") stay whole in the legend.
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
    },
  };
  // Loaded here, not at the top: Vega and Vega-Lite take about half a second to import, and every CLI
  // command imports this module while few draw a chart.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
