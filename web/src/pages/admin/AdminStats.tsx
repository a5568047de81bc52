import { useEffect, useMemo, useState } from "react";
import { api } from "../../api";
import { BarChart } from "../../components/BarChart";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { formatShortDate } from "../../lib/dates";
import { officesIn, totals } from "../../lib/stats";
import type { StatsRow } from "../../types";
import { useManagedOffices } from "./useManagedOffices";

export function AdminStats() {
  useTitle("Admin: stats");
  const { offices } = useManagedOffices(true);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [rows, setRows] = useState<StatsRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [officeFilter, setOfficeFilter] = useState("");

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
  const shown = useMemo(() => (rows ?? []).filter((r) => !officeFilter || r.office === officeFilter), [rows, officeFilter]);
  const points = useMemo(() => {
    const byDate = new Map<string, { bookings: number; parking: number }>();
    for (const r of shown) {
      const t = byDate.get(r.date) ?? { bookings: 0, parking: 0 };
      byDate.set(r.date, { bookings: t.bookings + r.bookings, parking: t.parking + r.parking });
    }
    return [...byDate.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([date, t]) => ({ label: formatShortDate(date), ...t }));
  }, [shown]);
  const sum = totals(shown);

  return (
    <>
      <h1>Stats</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="st-office">Office</label>
          <select id="st-office" value={officeFilter} onChange={(e) => setOfficeFilter(e.target.value)}>
            <option value="">All offices</option>
            {officesIn(rows ?? []).map((id) => (
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
        <a className="button button-secondary" href={api.statsCsvUrl({ from: from || undefined, to: to || undefined })} download>
          Download CSV
        </a>
      </div>
      <ErrorNotice error={error} />
      {!rows && !error && <Loading />}
      {rows && (
        <>
          <p className="summary">
            <strong>{sum.bookings}</strong> bookings and <strong>{sum.parking}</strong> parking spaces in the range shown.
          </p>
          <BarChart points={points} title={officeFilter ? officeName(officeFilter) : "All offices"} />
          <TableWrap label="Stats table">
            <table>
              <caption>Bookings per office and day</caption>
              <thead>
                <tr>
                  <th scope="col">Office</th>
                  <th scope="col">Date</th>
                  <th scope="col" className="num">
                    Bookings
                  </th>
                  <th scope="col" className="num">
                    Parking
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={`${r.office}/${r.date}`}>
                    <td>{officeName(r.office)}</td>
                    <td>{formatShortDate(r.date)}</td>
                    <td className="num">{r.bookings}</td>
                    <td className="num">{r.parking}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
    </>
  );
}
