"""The pipeline's stages: each reads files, calls the libraries and writes files.

No stage imports another stage; the command line (:mod:`evaluation.cli`) and the
workflow call them. In pipeline order: ``demo``, ``ingest``, ``faults``
(demo only), ``validate``, ``weight``, ``estimate``, ``compare``, ``gather``,
``data_quality``, ``provenance``, ``render``.
"""
