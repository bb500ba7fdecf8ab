"""Guide Search: semantic search over health guides.

Stages, in the order data flows: ingest (guides to sections), chunk (sections to model-sized
chunks), embed (texts to vectors), lexical (BM25), store (the index on disk), build (the whole
pipeline), retrieve (question to hits), coverage ("not covered"), highlight (evidence for display),
evaluate (metrics over question files).
"""

__version__ = "0.1.0"
