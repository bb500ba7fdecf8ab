"""Build or update the search index: python build_index.py [--corpus DIR] [--index DIR] [--check]."""

import argparse
import sys

from guidesearch.cli import build_parser, run

if __name__ == "__main__":
    parser = build_parser(argparse.ArgumentParser(description="Build or update the Guide Search index."))
    sys.exit(run(parser))
