"""Build or update the search index: python build_index.py [--corpus DIR] [--index DIR] [--check]."""

import sys

from guidesearch.cli import OneLineParser, build_parser, run

if __name__ == "__main__":
    parser = build_parser(OneLineParser(description="Build or update the Guide Search index."))
    sys.exit(run(parser))
