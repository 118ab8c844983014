"""Runs an app script as ``python APP ARGS...`` would, after loading or patching things.

    python benchmarks/apps/preload.py SPEC APP ARGS...

SPEC is ``-`` (nothing) or comma-separated items: a module name is imported;
``module:function`` is imported and the function called without arguments; ``@NAME``
applies the prototype ``NAME`` of ``prototypes.py`` (a patch that shows what a proposed
fix would save). The attribution benchmark (``suite/attribute.py``) counts the
instructions of two such runs that differ in one item: the difference is what that item
costs (or, for a prototype, saves) in that host. Both sides of a comparison run through
this script, so its own cost cancels out.
"""

import importlib
import os
import runpy
import sys


def main() -> None:
    spec, app, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    here = os.path.dirname(os.path.abspath(__file__))
    for item in spec.split(","):
        if item in ("", "-"):
            continue
        if item.startswith("@"):
            sys.path.insert(0, here)
            import prototypes

            sys.path.remove(here)
            prototypes.apply(item[1:])
        else:
            module, _, function = item.partition(":")
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
    sys.argv = [app, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(app))
    runpy.run_path(app, run_name="__main__")


if __name__ == "__main__":
    main()
