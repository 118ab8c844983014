"""The command line: management and maintainer commands, ``run`` and the demo.

Commands are plain functions in one module per group (``store``, ``share``, ``run``,
``maintainer``); ``app`` only assembles them. Commands return data; rendering is
separate. May import ``_receive``, ``_share``, ``_record``, ``_store`` and
``_contract``; never the face (``Telemetry``, the integration), which mounts this layer.
"""
