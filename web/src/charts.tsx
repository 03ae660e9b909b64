import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import "./charts.css";

// Small hand-written SVG charts. A handful of bar and line shapes did not justify a charting library in the
// bundle, and drawing with CSS custom properties lets the page's light and dark palettes colour them. The
// SVG is drawn at its box's measured width (not scaled from a fixed viewBox), so labels keep their size on a
// phone as on a desktop.

const height = 180;
const margin = { top: 10, right: 8, bottom: 22, left: 52 };
const palette = 8;

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

export function seriesColor(index: number): string {
  return `var(--chart-${(index % palette) + 1})`;
}

// The width of an element, kept up to date as the window (or a phone's orientation) changes.
function useWidth(fallback = 420) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(200, Math.floor(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

// A round upper bound for an axis: 1, 2 or 5 times a power of ten.
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

interface Frame {
  readonly width: number;
  readonly plotWidth: number;
  readonly plotHeight: number;
  readonly slot: number;
  readonly y: (value: number) => number;
}

function frame(width: number, buckets: number, yMin: number, yMax: number): Frame {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  return {
    width,
    plotWidth,
    plotHeight,
    slot: plotWidth / Math.max(1, buckets),
    y: (value) => margin.top + plotHeight - ((value - yMin) / (yMax - yMin || 1)) * plotHeight,
  };
}

// Gridlines with their values on the left, and a few bucket labels along the bottom (as many as fit).
function Axes(props: {
  f: Frame;
  labels: readonly string[];
  ticks: readonly number[];
  format: (value: number) => string;
}) {
  const { f, labels } = props;
  const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(f.plotWidth / 64))));
  return (
    <g class="axes">
      {props.ticks.map((tick) => (
        <g key={tick}>
          <line x1={margin.left} x2={f.width - margin.right} y1={f.y(tick)} y2={f.y(tick)} class="grid" />
          <text x={margin.left - 6} y={f.y(tick)} dy="0.32em" text-anchor="end">
            {props.format(tick)}
          </text>
        </g>
      ))}
      {labels.map((label, i) =>
        i % every === 0 ? (
          <text
            key={label}
            x={margin.left + f.slot * (i + 0.5)}
            y={height - 6}
            text-anchor={i === 0 && f.slot < 30 ? "start" : "middle"}
          >
            {label}
          </text>
        ) : null,
      )}
    </g>
  );
}

export function Legend(props: { names: readonly string[]; extra?: ComponentChildren }) {
  return (
    <ul class="legend">
      {props.names.map((name, i) => (
        <li key={name}>
          <span class="swatch" style={{ background: seriesColor(i) }} />
          {name}
        </li>
      ))}
      {props.extra}
    </ul>
  );
}

// One bar per bucket with its series stacked, or (grouped) the series side by side.
export function BarChart(props: {
  label: string;
  labels: readonly string[];
  series: readonly Series[];
  format: (value: number) => string;
  grouped?: boolean;
}) {
  const { ref, width } = useWidth();
  const { labels, series } = props;
  const tops = labels.map((_, i) =>
    props.grouped
      ? Math.max(0, ...series.map((s) => s.values[i] ?? 0))
      : series.reduce((total, s) => total + (s.values[i] ?? 0), 0),
  );
  const yMax = niceMax(Math.max(0, ...tops));
  const f = frame(width, labels.length, 0, yMax);
  const gap = Math.min(4, f.slot * 0.2);
  const bars: preact.JSX.Element[] = [];
  labels.forEach((bucket, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const value = s.values[i] ?? 0;
      if (value <= 0) return;
      const barWidth = props.grouped ? (f.slot - gap) / series.length : f.slot - gap;
      const x = margin.left + f.slot * i + gap / 2 + (props.grouped ? barWidth * k : 0);
      const bottom = props.grouped ? 0 : base;
      base += value;
      bars.push(
        <rect
          key={`${bucket}-${s.name}`}
          class="bar"
          x={x}
          width={Math.max(1, barWidth)}
          y={f.y(bottom + value)}
          height={Math.max(1, f.y(bottom) - f.y(bottom + value))}
          fill={seriesColor(k)}
        >
          <title>{`${bucket} · ${s.name}: ${props.format(value)}`}</title>
        </rect>,
      );
    });
  });
  return (
    <div ref={ref} class="chart">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={props.label}
      >
        <Axes f={f} labels={labels} ticks={[0, yMax / 2, yMax]} format={props.format} />
        {bars}
      </svg>
      <Legend names={series.map((s) => s.name)} />
    </div>
  );
}

export interface Band {
  readonly lower: number;
  readonly upper: number;
}

// Lines over the buckets (a null value is a gap), with an optional shaded band, e.g. an interval around the
// first line, or the area between the first two lines.
export function LineChart(props: {
  label: string;
  labels: readonly string[];
  lines: ReadonlyArray<{ name: string; values: ReadonlyArray<number | null> }>;
  band?: { name: string; values: ReadonlyArray<Band | null> };
  yMax?: number;
  format: (value: number) => string;
}) {
  const { ref, width } = useWidth();
  const values = [
    ...props.lines.flatMap((l) => l.values),
    ...(props.band?.values.map((b) => b?.upper ?? null) ?? []),
  ].filter((v): v is number => v !== null);
  const yMax = props.yMax ?? niceMax(Math.max(0, ...values));
  const f = frame(width, props.labels.length, 0, yMax);
  const x = (i: number) => margin.left + f.slot * (i + 0.5);
  return (
    <div ref={ref} class="chart">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={props.label}
      >
        <Axes f={f} labels={props.labels} ticks={[0, yMax / 2, yMax]} format={props.format} />
        {props.band &&
          runs(props.band.values).map((run) => (
            <path
              key={run[0]?.[0]}
              class="band"
              d={bandPath(run, x, f.y, Math.min(6, f.slot / 3))}
              fill={seriesColor(0)}
            />
          ))}
        {props.lines.map((line, k) => (
          <g key={line.name} class="line" stroke={seriesColor(k)} fill={seriesColor(k)}>
            {runs(line.values).map((run) => (
              <path
                key={run[0]?.[0]}
                fill="none"
                d={run.map(([i, v], j) => `${j === 0 ? "M" : "L"}${x(i)},${f.y(v)}`).join(" ")}
              />
            ))}
            {line.values.map((v, i) =>
              v === null ? null : (
                <circle key={i} class="point" cx={x(i)} cy={f.y(v)} r={2.5}>
                  <title>{`${props.labels[i]} · ${line.name}: ${props.format(v)}`}</title>
                </circle>
              ),
            )}
          </g>
        ))}
      </svg>
      <Legend
        names={props.lines.map((l) => l.name)}
        extra={
          props.band && (
            <li>
              <span class="swatch band" style={{ background: seriesColor(0) }} />
              {props.band.name}
            </li>
          )
        }
      />
    </div>
  );
}

// Consecutive non-null values, each with its bucket index: what one unbroken line (or band) is drawn over.
function runs<T>(values: ReadonlyArray<T | null>): Array<Array<[number, T]>> {
  const result: Array<Array<[number, T]>> = [];
  let current: Array<[number, T]> = [];
  values.forEach((value, i) => {
    if (value === null) {
      if (current.length > 0) result.push(current);
      current = [];
    } else current.push([i, value]);
  });
  if (current.length > 0) result.push(current);
  return result;
}

// The upper edge left to right, then the lower edge back; a lone bucket gets a narrow box so it shows.
function bandPath(
  run: ReadonlyArray<[number, Band]>,
  x: (i: number) => number,
  y: (v: number) => number,
  halfWidth: number,
): string {
  const points = run.length === 1 && run[0] ? [run[0], run[0]] : run;
  const offset = (j: number) => (run.length === 1 ? (j === 0 ? -halfWidth : halfWidth) : 0);
  const upper = points.map(([i, b], j) => `${x(i) + offset(j)},${y(b.upper)}`);
  const lower = points.map(([i, b], j) => `${x(i) + offset(j)},${y(b.lower)}`).reverse();
  return `M${upper.join(" L")} L${lower.join(" L")} Z`;
}
