"""The notify service's contract: RPC methods, events, errors. Import this, not service.py."""
from obcommon.messaging import Contract, RpcMethod

SERVICE = "notify"

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("pending_count", "() -> int", "mails stored but not sent yet"),
        RpcMethod("outbox_status", "() -> OutboxStatus", "pending and failing mails, oldest pending time"),
    ],
    events=[],  # notify emits none; it consumes identity.login_code_issued
    errors=[],  # notify raises none yet (NotifyError is the base for future ones)
)
