"""Quality handlers: router, the four quality handlers, the manager, the session manager.

Messages in, replies out. The thread and run of every reply come from the
session manager (:mod:`handlers.sessions`) under the configured continuity
strategy; nothing per-request is kept on a shared instance.
"""
