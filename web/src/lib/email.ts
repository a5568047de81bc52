export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Whether the address may sign in (SPEC §2: email_regex uses syntax shared by Python and JS). */
export function isAllowedEmail(email: string, emailRegex: string): boolean {
  const address = normalizeEmail(email);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) return false;
  try {
    return new RegExp(emailRegex).test(address);
  } catch {
    return true; // let the server decide
  }
}

export function looksLikeEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalizeEmail(email));
}

export function splitEmail(email: string): { local: string; domain: string } {
  const at = email.lastIndexOf("@");
  if (at < 0) return { local: email, domain: "" };
  return { local: email.slice(0, at), domain: email.slice(at + 1) };
}
