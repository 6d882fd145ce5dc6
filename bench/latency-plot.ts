// bench/latency-plot.ts draws the benchmark's one picture by hand, as SVG: latency against the
// offered checkout rate, p50 and p99 of POST /api/orders and of placed-to-CONFIRMED, on a log
// scale with the spec's targets as dashed lines. No charting dependency for four lines.
import { SPEC_TARGETS, type BenchResult } from './bench-report.ts'

export interface PlotPoint {
  /** connected points are the ladder's, joined by lines; the others (separate runs) stand alone, hollow. */
  connected: boolean
  offeredPerSecond: number
  postP50Ms: number
  postP99Ms: number
  confirmedP50Ms: number
  confirmedP99Ms: number
}

export interface PlotOptions {
  title: string
  subtitle: string
  /** targets are horizontal dashed lines: `{ label, ms }`. */
  targets: { label: string; ms: number }[]
  /** rateMarkers are vertical dotted lines, e.g. the saturation point. */
  rateMarkers: { label: string; perSecond: number }[]
  /** notes are lines under the legend. */
  notes: string[]
}

const WIDTH = 880
const HEIGHT = 440
const MARGIN = { left: 84, right: 220, top: 60, bottom: 50 }

const SERIES = [
  { key: 'postP50Ms', label: 'POST /api/orders p50', color: '#6baed6' },
  { key: 'postP99Ms', label: 'POST /api/orders p99', color: '#08519c' },
  { key: 'confirmedP50Ms', label: 'placed→CONFIRMED p50', color: '#fd8d3c' },
  { key: 'confirmedP99Ms', label: 'placed→CONFIRMED p99', color: '#a63603' },
] as const

/** latencyPlotSvg renders the points (sorted by rate) as an SVG document. */
export function latencyPlotSvg(points: readonly PlotPoint[], options: PlotOptions): string {
  const sorted = [...points].sort((a, b) => a.offeredPerSecond - b.offeredPerSecond)
  const values = sorted
    .flatMap((point) => SERIES.map((series) => point[series.key]))
    .concat(options.targets.map((target) => target.ms))
    .filter((value) => Number.isFinite(value) && value > 0)
  const minMs = 10 ** Math.floor(Math.log10(Math.min(...values, 1)))
  const maxMs = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)))
  const maxRate = niceCeiling(
    Math.max(
      ...sorted.map((point) => point.offeredPerSecond),
      ...options.rateMarkers.map((marker) => marker.perSecond),
      1,
    ),
  )
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const x = (rate: number) => MARGIN.left + (rate / maxRate) * plotWidth
  const y = (ms: number) =>
    MARGIN.top +
    plotHeight -
    ((Math.log10(ms) - Math.log10(minMs)) / (Math.log10(maxMs) - Math.log10(minMs))) * plotHeight

  const parts: string[] = []
  for (let decade = minMs; decade <= maxMs; decade *= 10) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(decade)}" y2="${y(decade)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${y(decade) + 4}" text-anchor="end">${formatMs(decade)}</text>`,
    )
  }
  for (let tick = 0; tick <= 5; tick++) {
    const rate = (maxRate / 5) * tick
    parts.push(
      `<line x1="${x(rate)}" x2="${x(rate)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`,
      `<text x="${x(rate)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${Math.round(rate)}</text>`,
    )
  }
  for (const target of options.targets) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(target.ms)}" y2="${y(target.ms)}" stroke="#999" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + plotWidth - 4}" y="${y(target.ms) - 4}" text-anchor="end" fill="#666">${escapeXml(target.label)}</text>`,
    )
  }
  for (const marker of options.rateMarkers) {
    parts.push(
      `<line x1="${x(marker.perSecond)}" x2="${x(marker.perSecond)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#c00" stroke-dasharray="2 3"/>`,
      `<text x="${x(marker.perSecond) + 4}" y="${MARGIN.top + 14}" fill="#c00">${escapeXml(marker.label)}</text>`,
    )
  }
  SERIES.forEach((series, index) => {
    const drawn = sorted.filter(
      (point) => Number.isFinite(point[series.key]) && point[series.key] > 0,
    )
    const path = drawn
      .filter((point) => point.connected)
      .map(
        (point, i) =>
          `${i === 0 ? 'M' : 'L'}${x(point.offeredPerSecond).toFixed(1)},${y(point[series.key]).toFixed(1)}`,
      )
      .join(' ')
    parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`)
    for (const point of drawn) {
      const fill = point.connected ? series.color : '#fff'
      parts.push(
        `<circle cx="${x(point.offeredPerSecond).toFixed(1)}" cy="${y(point[series.key]).toFixed(1)}" r="3.5" fill="${fill}" stroke="${series.color}" stroke-width="1.5"/>`,
      )
    }
    const legendY = MARGIN.top + 10 + index * 20
    const legendX = MARGIN.left + plotWidth + 16
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 20}" y1="${legendY}" y2="${legendY}" stroke="${series.color}" stroke-width="2"/>`,
      `<text x="${legendX + 26}" y="${legendY + 4}">${escapeXml(series.label)}</text>`,
    )
  })

  const noteY = MARGIN.top + 10 + SERIES.length * 20 + 10
  options.notes.forEach((note, index) => {
    parts.push(
      `<text x="${MARGIN.left + plotWidth + 16}" y="${noteY + index * 16}" fill="#555">${escapeXml(note)}</text>`,
    )
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<text x="${MARGIN.left}" y="42" fill="#555">${escapeXml(options.subtitle)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
    ...parts,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">offered checkouts per second</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency (log scale)</text>`,
    '</svg>',
    '',
  ].join('\n')
}

/** benchResultPlotSvg is the plot of one run: its steps, its saturation, the spec's targets. */
export function benchResultPlotSvg(result: BenchResult): string {
  const separate = result.mode === 'separate'
  const saturation = result.saturation.confirmedPerSecond
  return latencyPlotSvg(
    result.steps.map((step) => ({
      connected: step.kind === 'ladder',
      offeredPerSecond: step.offeredPerSecond,
      postP50Ms: step.postLatency.p50Ms,
      postP99Ms: step.postLatency.p99Ms,
      confirmedP50Ms: step.placedToConfirmed.p50Ms,
      confirmedP99Ms: step.placedToConfirmed.p99Ms,
    })),
    {
      title: 'microshop: checkout latency vs offered rate',
      subtitle:
        `${separate ? 'separate processes on Postgres + NATS JetStream' : 'embedded (npm start)'}; ` +
        `${result.machine.cpus} cores; ${result.startedAt.slice(0, 10)}; saturation ${saturation} confirmed/s`,
      rateMarkers: [{ label: `saturation ${saturation}/s`, perSecond: saturation }],
      notes: separate
        ? ['lines: the ladder', 'hollow: the runs at half', 'saturation and at 250/s']
        : ['lines: the ladder', 'hollow: the run at half', 'saturation'],
      targets: separate
        ? [
            {
              label: `POST p99 target (${SPEC_TARGETS.postP99Ms} ms at 250/s)`,
              ms: SPEC_TARGETS.postP99Ms,
            },
            {
              label: `placed->CONFIRMED p99 target (${SPEC_TARGETS.placedToConfirmedP99Ms} ms at 250/s)`,
              ms: SPEC_TARGETS.placedToConfirmedP99Ms,
            },
          ]
        : [],
    },
  )
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value))
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((nice) => nice >= value) ?? value
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
