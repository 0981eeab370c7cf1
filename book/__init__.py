"""The course site: Jupyter Book 1.x sources and the build script (``python -m book.build``)."""
