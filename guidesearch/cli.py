"""Command lines: `python -m guidesearch search|evaluate|build|check|serve|mcp` and build_index.py.

Argument parsing and reporting only; the work happens in the stage modules.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import shlex
import signal
import sys
import traceback
from pathlib import Path
from typing import NoReturn, Sequence

from guidesearch.config import BACKENDS, BUILD_COMMAND, MODES, Settings
from guidesearch.errors import CorpusError, GuideSearchError
from guidesearch.records import display_name
from guidesearch.text import bidi_visible, cut


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the flags given on the command line on top; with no
    corpus named, the corpus the index was built from (freshness.with_recorded_corpus)."""
    from guidesearch.freshness import with_recorded_corpus
    return with_recorded_corpus(Settings.from_env(
        corpus_dir=getattr(args, "corpus", None), index_dir=args.index, model_name=args.model,
        mode=getattr(args, "mode", None), backend=args.backend, max_tokens=getattr(args, "max_tokens", None),
        max_file_bytes=getattr(args, "max_file_bytes", None)))


# The flags that say which index a build writes and how (argparse dest -> flag).
BUILD_FLAGS = {"corpus": "--corpus", "index": "--index", "model": "--model", "backend": "--backend",
               "max_tokens": "--max-tokens", "max_file_bytes": "--max-file-bytes"}


def build_command(args: argparse.Namespace) -> str:
    """The command that builds the index these arguments name: the build command with the flags
    given here (the environment's GUIDESEARCH_* variables hold for it as they do here), and the
    corpus the index records when none is named and it is not the default folder. A command
    without --corpus (search, evaluate) that names an index recording no corpus cannot say which
    guides it holds: the command says to name them, rather than fill that index with the default
    ones."""
    builds = hasattr(args, "check")         # build_index.py: its --backend embeds the passages
    given = [(flag, getattr(args, dest, None)) for dest, flag in BUILD_FLAGS.items()
             if dest != "backend" or builds]    # elsewhere it runs the questions only
    words = [BUILD_COMMAND, *(f"{flag} {shlex.quote(str(value))}" for flag, value in given if value is not None)]
    try:
        named = Settings.from_env(corpus_dir=getattr(args, "corpus", None), index_dir=args.index)
    except GuideSearchError:
        return " ".join(words)
    if named.corpus_named:
        return " ".join(words)
    from guidesearch.freshness import recorded_corpus
    recorded = recorded_corpus(named.index_dir)
    if recorded is not None:
        if recorded.resolve() != Path(named.corpus_dir).resolve():
            words.insert(1, f"--corpus {shlex.quote(display_name(str(recorded)))}")   # a path of control characters
    elif not hasattr(args, "corpus") and (args.index is not None or os.environ.get("GUIDESEARCH_INDEX")):
        words.insert(1, "--corpus <the guides' folder>")
    return " ".join(words)


def with_build_command(message: str, args: argparse.Namespace) -> str:
    """A message whose advice names the build command, with this command line's flags: the bare
    command would build the default index, and leave the one named here as it was."""
    return message.replace(BUILD_COMMAND, build_command(args)) if BUILD_COMMAND in message else message


def open_searcher(settings: Settings):
    # Imported here, not at the top: --help and input errors answer without loading numpy,
    # faiss or the model.
    from guidesearch.retrieve import open_searcher as open_index
    return open_index(settings=settings)


def cmd_search(args: argparse.Namespace) -> int:
    from guidesearch.question import clean_question
    # A bad question fails before the model loads, or numpy (settings_from reads the manifest).
    clean_question(args.question, Settings.from_env().max_question_chars)
    settings = settings_from(args)
    searcher = open_searcher(settings)
    result = searcher.search(args.question, top_k=args.k)
    stale = _stale_note(args, settings)
    if stale:
        print(stale, file=sys.stderr)
    if args.json:
        # bidi_visible's escapes are JSON's own: a reader decodes the very text of the guide.
        print(bidi_visible(json.dumps(result.to_dict(), ensure_ascii=False, indent=2)))
        return 0
    if result.truncated:
        print("(The question was long and was cut to what the model reads.)")
    if result.message:
        print(bidi_visible(result.message))
    for note in filter(None, (result.spelling_note, result.related_note, result.unmatched_note)):
        print(f"({bidi_visible(note)})")
    for hit in result.hits:
        print(f"\n[{hit.rank}] {bidi_visible(' > '.join(hit.headings))}  ({display_name(hit.source)}, "
              f"score {hit.score:.3f}, {result.match_of(hit)} match)")
        # Indented: no line of a guide can pass for a result's header line, which starts the line.
        print("\n".join(f"    {line}".rstrip() for line in bidi_visible(hit.text).splitlines()))
        if hit.evidence and hit.evidence.text != hit.text.strip():
            print(f"  » best answer: {bidi_visible(hit.evidence.text)}")
        if hit.also_in:
            print(f"  (also in: {bidi_visible(hit.other_places)})")
    return 0


def _stale_note(args: argparse.Namespace, settings: Settings) -> str:
    """freshness.stale_note with the rebuild command, or "". An index named (--index,
    GUIDESEARCH_INDEX) without its corpus names no corpus to compare with, unless the index
    recorded it (settings_from then took it)."""
    from guidesearch.freshness import stale_note
    index_named = args.index is not None or os.environ.get("GUIDESEARCH_INDEX")
    note = stale_note(settings, corpus_named=settings.corpus_named or not index_named)
    return f"note: {note} Rebuild with: {build_command(args)}" if note else ""


# Labels that match nothing are listed up to this many (a whole file of them is one mistake).
MAX_WARNINGS = 10


def cmd_evaluate(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupt)       # as Ctrl-C: --out's temporary file is removed
    from guidesearch.evaluate import ResultsFile, evaluate, label_problems, outcome_line, read_questions
    questions = read_questions(Path(args.questions))
    out = ResultsFile(Path(args.out), Path(args.questions)) if args.out else None   # before the long run
    searcher = open_searcher(settings_from(args))
    problems = label_problems(questions, searcher.index.chunks)
    for problem in problems[:MAX_WARNINGS]:
        print(f"warning: {display_name(problem)}.", file=sys.stderr)
    if len(problems) > MAX_WARNINGS:
        print(f"warning: and {len(problems) - MAX_WARNINGS} more labels that match nothing in the index.",
              file=sys.stderr)
    depth = max(args.k, 10)
    report = evaluate(questions, lambda q: searcher.search(q, top_k=depth, evidence=False), searcher.index.chunks, args.k)
    if args.json:
        print(json.dumps(report.summary(), ensure_ascii=False, indent=2))
    else:
        print(f"{args.questions} ({searcher.settings.mode} mode, index {searcher.settings.index_dir})")
        print(report.format())
    if out is not None:
        out.write(json.dumps(outcome_line(outcome), ensure_ascii=False) + "\n" for outcome in report.outcomes)
        # with --json, stdout holds the JSON object alone
        print(f"Wrote {len(report.outcomes)} line(s) to {args.out}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from guidesearch.build import build_index
    from guidesearch.embed import passage_encoder
    if args.check:
        return cmd_check(args)
    settings = settings_from(args)
    before = _answering(settings.index_dir)
    # SIGTERM (kill, a service manager) ends a build as Ctrl-C does: its staging folder is
    # removed. From the start, so that one while the model loads says so too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        encoder = passage_encoder(settings)
        report = build_index(settings, encoder, show_progress=sys.stderr.isatty() or args.progress,
                             wait_seconds=args.wait, log=_report_line)
    except KeyboardInterrupt:
        print(f"error: interrupted.{_index_left(settings.index_dir, before)}", file=sys.stderr)
        return 130
    except CorpusError as exc:      # nothing to build from: say what still answers, as other failures do
        raise CorpusError(f"{exc}{_index_left(settings.index_dir, before)}") from exc
    # The new build answers: a signal now (during the summary, or the second torch takes to shut
    # down) would report a finished build as interrupted, or a traceback from an atexit hook.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    _report_line(report.summary())
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _report_line(line: str) -> None:
    """A line of a build's report. When stdout can no longer be written the rest goes nowhere
    and the build goes on (stopping, as `run` does for other commands, built nothing and said
    so nowhere, with exit 0: found by adversarial testing). A reader that left ("| head -1")
    wanted no more; a full disk is said once on stderr (review)."""
    try:
        print(line, flush=True)
    except OSError as exc:      # BrokenPipeError is one
        if not isinstance(exc, BrokenPipeError) and exc.errno not in CANNOT_WRITE:
            raise
        _stdout_to_devnull()
        if not isinstance(exc, BrokenPipeError):
            print(f"warning: Cannot write the build's report ({exc.strerror}); the build goes on.", file=sys.stderr)


def _stdout_to_devnull() -> None:
    """What stdout still holds, and all it is sent after this, goes nowhere."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def _answering(index_dir: Path) -> Path | None:
    """The build folder that answers searches, or None (nothing built, or CURRENT damaged)."""
    from guidesearch.store import current_build
    try:
        return current_build(index_dir)
    except GuideSearchError:
        return None


def _index_left(index_dir: Path, before: Path | None) -> str:
    """After an interrupted build: which index answers (before: the build that answered when it
    started). The one answering is this build's only if this process wrote it: another build
    may have finished while this one waited for the lock."""
    from guidesearch.store import made_here
    now = _answering(index_dir)
    if now is not None and now != before and made_here(now):
        return f" The new build had already been switched in and answers ({now.name})."
    return " The build was not finished; the previous index still answers." if now else " The build was not finished."


def cmd_check(args: argparse.Namespace) -> int:
    from guidesearch.freshness import check_freshness
    diff = check_freshness(settings_from(args))
    print(with_build_command(diff.describe(), args))
    if not diff.fresh and not diff.problem and not diff.no_guides_left:
        print(f"Rebuild with: {build_command(args)}")
    return 0 if diff.fresh else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from guidesearch.api import serve
    return serve(settings_from(args), host=args.host, port=args.port)


def cmd_mcp(args: argparse.Namespace) -> int:
    from guidesearch.mcp_server import serve_stdio
    serve_stdio(settings_from(args))
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use 1 to 65535 (0: any free port)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:         # nan fails both
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds: use 0 or more")
    return seconds


def _common(parser: argparse.ArgumentParser, corpus: bool = False) -> None:
    parser.add_argument("--index", help="index folder (default: index/, or GUIDESEARCH_INDEX)")
    parser.add_argument("--model", help="sentence-transformers model name or folder (GUIDESEARCH_MODEL)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="engine that runs the model (GUIDESEARCH_BACKEND; default auto: the fastest measured)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    if corpus:
        parser.add_argument("--corpus", help="corpus folder (default: corpus/, or GUIDESEARCH_CORPUS)")
        parser.add_argument("--max-file-bytes", type=int, metavar="BYTES",
                            help="skip guide files larger than this (GUIDESEARCH_MAX_FILE_BYTES)")
        parser.add_argument("--max-tokens", type=int, metavar="TOKENS",
                            help="tokens per chunk, at most the model's (GUIDESEARCH_MAX_TOKENS)")


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The build_index.py arguments (also `python -m guidesearch build`)."""
    _common(parser, corpus=True)
    parser.add_argument("--check", action="store_true",
                        help="exit 0 if the index matches the corpus and settings, 1 with the reason if not")
    parser.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                        help="wait this long for another build to finish (default: stop at once)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar even when not on a terminal")
    parser.set_defaults(run=cmd_build)
    return parser


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments end in one line, like every other error: what is wrong and where to look."""

    def error(self, message: str) -> NoReturn:
        # "search -cramps" reads "-cramps" as an option, and says the question is missing.
        dashed = "required: question" in message and any(word.startswith("-") and word[1:2].isalpha()
                                                          for word in sys.argv[2:])
        hint = '; a question that starts with "-" goes after "--": search -- "-cramps"' if dashed else ""
        self.exit(2, f"error: {message}{hint} (see {self.prog} --help)\n")


def main_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m guidesearch", description="Search health guides.")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="answer one question")
    search.add_argument("question")
    search.add_argument("-k", "--top-k", dest="k", type=int, default=5, help="number of passages (default 5)")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--mode", choices=MODES, help="ranking (default: hybrid)")
    _common(search)
    search.set_defaults(run=cmd_search)
    evaluation = commands.add_parser("evaluate", help="retrieval metrics over a question file")
    evaluation.add_argument("questions", help="JSONL question file")
    evaluation.add_argument("-k", "--top-k", dest="k", type=int, default=10, help="passages per question (default 10)")
    evaluation.add_argument("--out", help="write one JSON line per question here")
    evaluation.add_argument("--json", action="store_true",
                            help="print the figures as one JSON object (Hit@k, Recall@k, MRR@10, nDCG@10, by style)")
    evaluation.add_argument("--mode", choices=MODES, help="ranking (default: hybrid)")
    _common(evaluation)
    evaluation.set_defaults(run=cmd_evaluate)
    build_parser(commands.add_parser("build", help="build or update the index (as build_index.py)"))
    check = commands.add_parser("check", help="is the index up to date? (as build_index.py --check)")
    _common(check, corpus=True)
    check.set_defaults(run=cmd_check)
    serve = commands.add_parser("serve", help="serve the JSON HTTP API (documented at /docs)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    _common(serve, corpus=True)
    serve.set_defaults(run=cmd_serve)
    mcp = commands.add_parser("mcp", help="serve the search to an MCP client over stdin/stdout")
    _common(mcp, corpus=True)
    mcp.set_defaults(run=cmd_mcp)
    return parser


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse, run, and end every failure in one line on stderr: the package's errors say what
    to do (exit 1); anything else is a bug, shown whole only with --debug (exit 2)."""
    args = parser.parse_args(argv)
    if getattr(args, "k", 1) < 1:
        parser.error("-k (--top-k) must be at least 1")
    try:
        code = args.run(args)
        sys.stdout.flush()      # output a full disk refuses fails here, inside the handlers below
        return code
    except GuideSearchError as exc:
        print(f"error: {with_build_command(str(exc), args)}", file=sys.stderr)
        return 1
    except BrokenPipeError:     # the reader closed the pipe (| head): stop quietly, as Unix tools do
        _stdout_to_devnull()
        return 0
    except KeyboardInterrupt:       # a build says which index answers (cmd_build)
        print("error: interrupted.", file=sys.stderr)
        return 130
    except OSError as exc:
        # Writing to stdout names no file; a file the work itself failed on does (review).
        if exc.errno not in CANNOT_WRITE or exc.filename is not None:
            return _bug(exc, args)
        _stdout_to_devnull()
        print(f"error: Cannot write the output ({exc.strerror}). Free some space, or send the output "
              "elsewhere.", file=sys.stderr)
        return 1
    except Exception as exc:
        return _bug(exc, args)


# Errors of writing the output (to a full disk, say) rather than of Guide Search.
CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _bug(exc: Exception, args: argparse.Namespace) -> int:
    """A bug: one line, and the way to see more."""
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}. This is a bug in Guide "
          "Search; run again with --debug to see the traceback, and report it.", file=sys.stderr)
    return 2


def _one_line(text: str, limit: int = 300) -> str:
    return cut(" ".join(text.split()), limit)


def main(argv: Sequence[str] | None = None) -> int:
    return run(main_parser(), argv)
