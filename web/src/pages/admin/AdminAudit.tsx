import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../api";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { describeRecord } from "../../lib/auditText";
import { formatDateTime } from "../../lib/dates";
import type { AuditRecord } from "../../types";
import { useManagedOffices } from "./useManagedOffices";

interface Filters {
  actor: string;
  office: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: "", office: "", from: "", to: "" };

function Change({ record }: { record: AuditRecord }) {
  if (record.before == null && record.after == null) return null;
  return (
    <details>
      <summary>
        Details{" "}<span className="visually-hidden">of {record.action.replace(/_/g, " ")} {record.entity_id ?? ""}</span>
      </summary>
      <div className="audit-change">
        {record.before != null && (
          <div>
            <p className="label">Before</p>
            <pre>{JSON.stringify(record.before, null, 2)}</pre>
          </div>
        )}
        {record.after != null && (
          <div>
            <p className="label">After</p>
            <pre>{JSON.stringify(record.after, null, 2)}</pre>
          </div>
        )}
      </div>
    </details>
  );
}

export function AdminAudit() {
  useTitle("Admin: audit log");
  const { offices } = useManagedOffices(true);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setRecords(null);
    setError(null);
    api.audit({ ...filters, limit: 50 }).then(
      (page) => {
        if (!live) return;
        setRecords(page.records);
        setNext(page.next_cursor);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [filters]);

  async function more() {
    if (!next) return;
    setBusy(true);
    try {
      const page = await api.audit({ ...filters, limit: 50, cursor: next });
      setRecords((r) => [...(r ?? []), ...page.records]);
      setNext(page.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const officeName = (id: string) => offices?.find((o) => o.id === id)?.name ?? id;
  const context = {
    officeName,
    officeZone: (id: string) => offices?.find((o) => o.id === id)?.timezone,
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    setFilters({ ...draft, actor: draft.actor.trim().toLowerCase() });
  }

  return (
    <>
      <h1>Audit log</h1>
      <form className="filters" onSubmit={submit} role="search" aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="au-actor">Actor email</label>
          <input id="au-actor" type="search" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="au-office">Office</label>
          <select id="au-office" value={draft.office} onChange={(e) => setDraft({ ...draft, office: e.target.value })}>
            <option value="">All offices</option>
            {(offices ?? []).map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="au-from">From</label>
          <input id="au-from" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="au-to">To</label>
          <input id="au-to" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </div>
        <button type="submit" className="button-secondary">
          Filter
        </button>
      </form>
      <ErrorNotice error={error} />
      {!records && !error && <Loading />}
      {records && records.length === 0 && <p>No changes recorded.</p>}
      {records && records.length > 0 && (
        <ol className="audit-list" aria-label="Change history, newest first">
          {records.map((r) => (
            <li key={r.id} className="audit-item" data-action={r.action}>
              <p className="audit-sentence">{describeRecord(r, context)}</p>
              <p className="audit-meta">
                <time dateTime={r.at}>{formatDateTime(r.at)}</time> · <span className="break">{r.actor ?? "system"}</span>
                {r.office ? <> · {officeName(r.office)}</> : null}
              </p>
              <Change record={r} />
            </li>
          ))}
        </ol>
      )}
      {next && (
        <button type="button" className="button-secondary" onClick={() => void more()} disabled={busy}>
          Load more
        </button>
      )}
    </>
  );
}
