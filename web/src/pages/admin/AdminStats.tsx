import { useEffect, useMemo, useState } from "react";
import { api } from "../../api";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { formatShortDate, todayIn } from "../../lib/dates";
import { totals } from "../../lib/stats";
import { buildPivot, cellKey, dayTotals, formatPercent, type PivotCell } from "../../lib/statsPivot";
import type { StatsRow } from "../../types";
import { useManagedOffices } from "./useManagedOffices";

function UtilisationCell({ cell }: { cell: PivotCell | undefined }) {
  if (!cell) return <td className="num">—</td>;
  const high = (cell.utilisation ?? 0) >= 0.9;
  return (
    <td className="num util-cell">
      <span className={cell.used === 0 ? "util-zero" : high ? "util-high" : undefined}>{formatPercent(cell.utilisation)}</span>
      <span className="muted">
        {" "}
        {cell.used}/{cell.quota}
      </span>
      {cell.parking > 0 && <span className="muted"> · {cell.parking} P</span>}
    </td>
  );
}

/** Horizontal bars, one per day: the share of the places used. Plain elements with a width set
 * through the DOM (no inline style attribute in the HTML, so it works under the strict CSP). */
function UtilisationChart({ days, title }: { days: ReturnType<typeof dayTotals>; title: string }) {
  if (days.length === 0) return null;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong>: share of places used per day (100% = the office's quota)
      </figcaption>
      <ul className="util-chart">
        {days.map((d) => {
          const share = d.utilisation ?? 0;
          return (
            <li key={d.date}>
              <span>{formatShortDate(d.date)}</span>
              <span className="util-track" aria-hidden="true">
                <span className={`util-fill ${share > 1 ? "util-over" : ""}`} style={{ width: `${Math.min(100, share * 100)}%` }} />
              </span>
              <span className="util-value">
                {formatPercent(d.utilisation)}
                <span className="visually-hidden">
                  {" "}
                  ({d.used} of {d.quota} places {d.basis === "checked_in" ? "checked in" : "booked"})
                </span>
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}

export function AdminStats() {
  useTitle("Admin: stats");
  const { offices } = useManagedOffices(true);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [rows, setRows] = useState<StatsRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [officeFilter, setOfficeFilter] = useState("");
  const [showEmpty, setShowEmpty] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    api.stats({ from: from || undefined, to: to || undefined }).then(
      (r) => live && setRows(r.office_dates),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [from, to]);

  const officeName = (id: string) => offices?.find((o) => o.id === id)?.name ?? id;
  const quotas = useMemo(() => Object.fromEntries((offices ?? []).map((o) => [o.id, o.quota])), [offices]);
  const allOffices = useMemo(() => [...new Set((rows ?? []).map((r) => r.office))], [rows]);
  const shown = useMemo(() => (rows ?? []).filter((r) => !officeFilter || r.office === officeFilter), [rows, officeFilter]);
  const today = todayIn(offices?.[0]?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const pivot = useMemo(() => buildPivot(shown, quotas, today, showEmpty), [shown, quotas, today, showEmpty]);
  const days = useMemo(() => dayTotals(pivot), [pivot]);
  const sum = totals(shown);
  const basisText = pivot.hasCheckIns
    ? "Utilisation is people checked in ÷ places (the office's quota) for days that have started, and bookings ÷ places for days ahead."
    : "Utilisation here is bookings ÷ places (the office's quota): check-in figures are not available yet.";

  return (
    <>
      <h1>Stats</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="st-office">Office</label>
          <select id="st-office" value={officeFilter} onChange={(e) => setOfficeFilter(e.target.value)}>
            <option value="">All offices</option>
            {allOffices.map((id) => (
              <option key={id} value={id}>
                {officeName(id)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="st-from">From</label>
          <input id="st-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="st-to">To</label>
          <input id="st-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="field-check">
          <input id="st-empty" type="checkbox" checked={showEmpty} onChange={(e) => setShowEmpty(e.target.checked)} />
          <label htmlFor="st-empty">Show days without bookings</label>
        </div>
        <a className="button button-secondary" href={api.statsCsvUrl({ from: from || undefined, to: to || undefined })} download>
          Download CSV
        </a>
      </div>
      <ErrorNotice error={error} />
      {!rows && !error && <Loading />}
      {rows && (
        <>
          <p className="summary" data-testid="stats-summary">
            <strong>{sum.bookings}</strong> bookings and <strong>{sum.parking}</strong> parking spaces in the range shown
            {pivot.hiddenDays > 0 && !showEmpty && (
              <>
                {" "}
                · {pivot.hiddenDays} day{pivot.hiddenDays === 1 ? "" : "s"} without bookings hidden
              </>
            )}
            .
          </p>
          <p className="stats-legend muted" data-testid="stats-basis">
            {basisText}
          </p>
          {pivot.dates.length === 0 ? (
            <p>No bookings in this range.</p>
          ) : (
            <>
              <UtilisationChart days={days} title={officeFilter ? officeName(officeFilter) : "All offices"} />
              <TableWrap label="Utilisation by day and office">
                <table className="pivot">
                  <caption>
                    Utilisation per day and office{pivot.hasCheckIns ? "" : " (bookings ÷ places)"}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      {pivot.offices.map((o) => (
                        <th scope="col" className="num" key={o}>
                          {officeName(o)}
                        </th>
                      ))}
                      {pivot.offices.length > 1 && (
                        <th scope="col" className="num">
                          All
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {pivot.dates.map((date, i) => (
                      <tr key={date}>
                        <th scope="row">{formatShortDate(date)}</th>
                        {pivot.offices.map((o) => (
                          <UtilisationCell key={o} cell={pivot.cells.get(cellKey(o, date))} />
                        ))}
                        {pivot.offices.length > 1 && (
                          <td className="num">
                            {formatPercent(days[i].utilisation)}
                            <span className="muted">
                              {" "}
                              {days[i].used}/{days[i].quota}
                            </span>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <p className="muted stats-legend">
                Each cell: utilisation, then {pivot.hasCheckIns ? "people counted" : "bookings"} / places, and parking
                spaces booked (P).
              </p>
            </>
          )}
        </>
      )}
    </>
  );
}
