// localStorage that never throws (private mode, disabled storage).
export function load(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function save(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    /* ignore */
  }
}

export const KEYS = {
  office: "ob.office",
  verifyOffice: "ob.verifyOffice",
  adminOffice: "ob.adminOffice",
};
