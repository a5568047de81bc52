import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../../api";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { isAllowedEmail, normalizeEmail } from "../../lib/email";
import { useSession, useUser } from "../../session";
import type { UserPage } from "../../types";
import { NotFound } from "../NotFound";

const PAGE_SIZE = 25;

function AddUser() {
  const { config } = useSession();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [error, setError] = useState<unknown>(null);
  function submit(event: FormEvent) {
    event.preventDefault();
    const address = normalizeEmail(email);
    if (config && !isAllowedEmail(address, config.email_regex)) {
      setError(new Error("This email address is not permitted to use Office Booker."));
      return;
    }
    navigate(`/admin/users/${encodeURIComponent(address)}`);
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <p className="hint">Prepare someone's quota, role or auto-approval before their first sign-in.</p>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="add-email">Email address</label>
          <input id="add-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        </div>
        <button type="submit" className="button-primary" disabled={!email.trim()}>
          Add user
        </button>
      </div>
      <ErrorNotice error={error} />
    </form>
  );
}

export function AdminUsers() {
  useTitle("Admin: users");
  const me = useUser();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get("email_prefix") ?? "");
  const [page, setPage] = useState<UserPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);

  const role = params.get("role") ?? "";
  const customQuota = params.get("custom_quota") === "true";
  const autoApproved = params.get("auto_approved") === "true";
  const prefix = params.get("email_prefix") ?? "";
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setError(null);
    api
      .users({
        email_prefix: prefix,
        role,
        custom_quota: customQuota,
        auto_approved: autoApproved,
        limit: PAGE_SIZE,
        cursor,
      })
      .then(
        (p) => live && setPage(p),
        (e) => live && setError(e),
      );
    return () => {
      live = false;
    };
  }, [prefix, role, customQuota, autoApproved, cursor]);

  if (!me.permissions.can_view_users) return <NotFound />;

  function setFilter(key: string, value: string | null) {
    const p = new URLSearchParams(params);
    if (value) p.set(key, value);
    else p.delete(key);
    setParams(p, { replace: true });
    setCursors([null]);
  }

  return (
    <>
      <h1>Users</h1>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter("email_prefix", normalizeEmail(search) || null);
        }}
      >
        <div className="field">
          <label htmlFor="us-search">Email starts with</label>
          <input id="us-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <button type="submit" className="button-secondary">
          Search
        </button>
        <div className="field">
          <label htmlFor="us-role">Role</label>
          <select id="us-role" value={role} onChange={(e) => setFilter("role", e.target.value || null)}>
            <option value="">Any role</option>
            <option value="Default">Default</option>
            <option value="Office Admin">Office Admin</option>
            <option value="System Admin">System Admin</option>
          </select>
        </div>
        <div className="field-check">
          <input id="us-custom" type="checkbox" checked={customQuota} onChange={(e) => setFilter("custom_quota", e.target.checked ? "true" : null)} />
          <label htmlFor="us-custom">Custom quota</label>
        </div>
        <div className="field-check">
          <input id="us-auto" type="checkbox" checked={autoApproved} onChange={(e) => setFilter("auto_approved", e.target.checked ? "true" : null)} />
          <label htmlFor="us-auto">Auto-approved</label>
        </div>
      </form>
      <ErrorNotice error={error} />
      {!page && !error && <Loading />}
      {page && (
        <>
          {page.users.length === 0 ? (
            <p>No users match.</p>
          ) : (
            <TableWrap label="Users table">
              <table>
                <caption className="visually-hidden">Users</caption>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col" className="num">
                      Weekly quota
                    </th>
                    <th scope="col">Auto-approved</th>
                  </tr>
                </thead>
                <tbody>
                  {page.users.map((u) => (
                    <tr key={u.email}>
                      <td>
                        <Link to={`/admin/users/${encodeURIComponent(u.email)}`}>{u.email}</Link>
                      </td>
                      <td>
                        {u.role.name}
                        {u.role.name === "Office Admin" && u.role.offices.length > 0 ? ` (${u.role.offices.join(", ")})` : ""}
                      </td>
                      <td className="num">
                        {u.quota}
                        {u.custom_quota ? " (custom)" : ""}
                      </td>
                      <td>{u.auto_approved ? "Yes" : "No"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <nav className="pager" aria-label="Pages of users">
            <button type="button" className="button-secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </button>
            <span>Page {cursors.length}</span>
            <button
              type="button"
              className="button-secondary"
              disabled={!page.next_cursor}
              onClick={() => setCursors((c) => [...c, page.next_cursor])}
            >
              Next page
            </button>
          </nav>
        </>
      )}
      {me.permissions.can_edit_users && <AddUser />}
    </>
  );
}
