"""``python -m bench``: run every benchmark module of this package (each has ``main()``)."""

from __future__ import annotations

import importlib
import pkgutil

import bench

for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
    if info.name.startswith("_"):
        continue
    module = importlib.import_module(f"bench.{info.name}")
    main = getattr(module, "main", None)
    if callable(main):
        print(f"== bench.{info.name}")
        main()
        print()
