def test_the_test_process_is_not_monkey_patched():
    """Importing test support must not patch this process (only service processes are green)."""
    import socket

    import tests.support.fixtures  # noqa: F401
    import tests.support.stack  # noqa: F401
    from eventlet import patcher

    assert not patcher.is_monkey_patched("socket")
    assert socket.socket.__module__ == "socket"
