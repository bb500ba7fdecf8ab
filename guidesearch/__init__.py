"""Guide Search: semantic search over health guides.

Stages, in the order data flows: ingest (guides to sections), chunk (sections to model-sized
chunks), backends + embed + onnx_model (texts to vectors), lexical (BM25), store (the index on
disk), build (the whole pipeline), coverage ("not covered"), highlight (evidence for display),
retrieve (question to hits), evaluate (metrics over question files).

For programs that embed the search:
    from guidesearch import open_searcher
    searcher = open_searcher(index_dir=None, corpus_dir=None)   # None: settings and environment
    result = searcher.search("why do my calves cramp at night?", top_k=5)
"""

__version__ = "0.1.0"
__all__ = ["open_searcher"]


def __getattr__(name: str):
    # Lazy, so that `import guidesearch` (the CLI's --help, its input errors) stays instant.
    if name == "open_searcher":
        from guidesearch.retrieve import open_searcher
        return open_searcher
    raise AttributeError(f"module 'guidesearch' has no attribute {name!r}")
