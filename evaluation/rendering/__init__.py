"""Building blocks of report rendering (see :mod:`evaluation.rendering.engine` for the public entry point).

Layers call downward only:

- :mod:`.builtin` renders a report without the Quarto CLI, using
  :mod:`.document` (read the ``.qmd``: includes, front matter, cell options),
  :mod:`.execute` (inject parameters, run the code in this process in one
  IPython shell, :mod:`.shell`, that records outputs as a kernel sends them),
  :mod:`.markdown` (executed notebook to pandoc Markdown) and :mod:`.convert`
  (pandoc to HTML; pandoc and Typst to PDF, with ``style.css`` and the Lua
  filter ``quarto-conventions.lua``);
- :mod:`.quarto` renders a report with the Quarto CLI;
- :mod:`.params` (checking and writing parameters) and :mod:`.outputs`
  (moving finished files into place) serve both.

``style.css`` and ``quarto-conventions.lua`` are package data: a non-editable
install needs them listed under ``[tool.setuptools.package-data]``.
"""
