export interface ChartPoint {
  label: string;
  bookings: number;
  parking: number;
}

/** A simple bar chart (bookings and parking per day). The table next to it carries the same data. */
export function BarChart({ points, title }: { points: ChartPoint[]; title: string }) {
  const width = 720;
  const height = 220;
  const pad = { top: 12, right: 8, bottom: 28, left: 36 };
  const max = Math.max(1, ...points.map((p) => Math.max(p.bookings, p.parking)));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const step = points.length > 0 ? innerW / points.length : innerW;
  const barW = Math.max(2, step * 0.7);
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  const total = points.reduce((t, p) => t + p.bookings, 0);
  const peak = points.reduce((best, p) => (p.bookings > best.bookings ? p : best), points[0] ?? { label: "", bookings: 0, parking: 0 });
  const description = points.length
    ? `${title}: ${total} bookings over ${points.length} days, highest ${peak.bookings} on ${peak.label}.`
    : `${title}: no data.`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={description} preserveAspectRatio="none">
        <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} className="chart-axis" />
        <text x={pad.left - 6} y={y(max) + 4} textAnchor="end" className="chart-label">
          {max}
        </text>
        <text x={pad.left - 6} y={y(0) + 4} textAnchor="end" className="chart-label">
          0
        </text>
        {points.map((p, i) => {
          const x = pad.left + i * step + (step - barW) / 2;
          return (
            <g key={p.label}>
              <rect x={x} y={y(p.bookings)} width={barW} height={y(0) - y(p.bookings)} className="chart-bar" />
              <rect x={x + barW * 0.25} y={y(p.parking)} width={barW * 0.5} height={y(0) - y(p.parking)} className="chart-bar-parking" />
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={height - 8} textAnchor="middle" className="chart-label">
                  {p.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span className="legend-swatch legend-bookings" aria-hidden="true" /> Bookings{" "}
        <span className="legend-swatch legend-parking" aria-hidden="true" /> Parking
      </figcaption>
    </figure>
  );
}
