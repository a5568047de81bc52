// A modal dialog on the native <dialog> element (focus trap, Escape and inert background for free).
import { useEffect, useId, useRef, type ReactNode } from "react";

interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  className?: string;
}

export function Dialog({ open, title, onClose, children, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    } else if (!open && dialog.open) {
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      className={`dialog ${className ?? ""}`}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <h2 id={titleId}>{title}</h2>
          {children}
        </>
      )}
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmProps) {
  const { open, title, children, confirmLabel, cancelLabel = "Go back", danger, busy, onConfirm, onCancel } = props;
  return (
    <Dialog open={open} title={title} onClose={onCancel}>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel} autoFocus>
          {cancelLabel}
        </button>
        <button type="button" className={danger ? "button-danger" : "button-primary"} onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** "Cancel this booking?" — the one confirmation every page that cancels bookings uses; the
 * page says what the cancellation means for whom (`describe`). `request`: the booking is a
 * ballot request (SPEC §13), cancelled the same way. */
export function CancelBookingDialog<T>(props: {
  pending: T | null;
  describe: (booking: T) => ReactNode;
  onKeep: () => void;
  onCancel: (booking: T) => void;
  request?: boolean;
}) {
  const { pending, describe, onKeep, onCancel, request } = props;
  return (
    <ConfirmDialog
      open={pending !== null}
      title={request ? "Cancel this request?" : "Cancel this booking?"}
      confirmLabel={request ? "Cancel request" : "Cancel booking"}
      cancelLabel={request ? "Keep request" : "Keep booking"}
      danger
      onCancel={onKeep}
      onConfirm={() => pending !== null && onCancel(pending)}
    >
      {pending !== null && <p>{describe(pending)}</p>}
    </ConfirmDialog>
  );
}

/** "Leave the waitlist?" — leaving (or, for admins, removing someone from) a day's queue
 * (SPEC §12) gives up the place in it for good. */
export function LeaveWaitlistDialog<T>(props: {
  pending: T | null;
  describe: (entry: T) => ReactNode;
  onStay: () => void;
  onLeave: (entry: T) => void;
  admin?: boolean;
}) {
  const { pending, describe, onStay, onLeave, admin } = props;
  return (
    <ConfirmDialog
      open={pending !== null}
      title={admin ? "Remove from the waitlist?" : "Leave the waitlist?"}
      confirmLabel={admin ? "Remove from waitlist" : "Leave the waitlist"}
      cancelLabel={admin ? "Keep on waitlist" : "Stay on the waitlist"}
      danger
      onCancel={onStay}
      onConfirm={() => pending !== null && onLeave(pending)}
    >
      {pending !== null && <p>{describe(pending)}</p>}
    </ConfirmDialog>
  );
}
