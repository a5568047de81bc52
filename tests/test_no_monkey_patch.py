def test_the_test_process_is_not_monkey_patched():
    """Importing test support must not patch this process (only service processes are green)."""
    import socket

    from eventlet import patcher

    import tests.support.fixtures  # noqa: F401
    import tests.support.stack  # noqa: F401

    assert not patcher.is_monkey_patched("socket")
    assert socket.socket.__module__ == "socket"
