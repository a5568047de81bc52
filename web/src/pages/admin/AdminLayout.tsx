import { NavLink, Outlet } from "react-router";
import { useUser } from "../../session";

export function AdminLayout() {
  const user = useUser();
  const p = user.permissions;
  return (
    <div className="admin">
      <nav aria-label="Admin" className="admin-nav">
        <ul>
          <li>
            <NavLink to="/admin/bookings">Bookings</NavLink>
          </li>
          <li>
            <NavLink to="/admin/stats">Stats</NavLink>
          </li>
          {p.can_view_users && (
            <li>
              <NavLink to="/admin/users">Users</NavLink>
            </li>
          )}
          {p.can_manage_offices && (
            <li>
              <NavLink to="/admin/offices">Offices</NavLink>
            </li>
          )}
          <li>
            <NavLink to="/admin/audit">Audit log</NavLink>
          </li>
        </ul>
      </nav>
      <Outlet />
    </div>
  );
}
