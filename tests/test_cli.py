"""The command lines, run as a user runs them: exit codes, output, errors without tracebacks."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, SEED


def run(*args: str, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    """A seed index built by build_index.py itself, with the folders given on the command line."""
    base = tmp_path_factory.mktemp("cli")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    done = run("build_index.py", "--corpus", str(corpus), "--index", str(base / "index"))
    assert done.returncode == 0, done.stderr
    assert "Indexed 1 guide(s), 14 section(s)" in done.stdout
    return base


def test_check_says_fresh_then_names_what_changed(cli_index):
    corpus, index = cli_index / "corpus", cli_index / "index"
    fresh = run("build_index.py", "--corpus", str(corpus), "--index", str(index), "--check")
    assert (fresh.returncode, fresh.stdout.strip()) == (0, "The index is up to date.")
    (corpus / "extra.md").write_text("# Extra\n\n## Part\n\nMore about cramps.\n", encoding="utf-8")
    stale = run("build_index.py", "--check", env={"GUIDESEARCH_CORPUS": str(corpus), "GUIDESEARCH_INDEX": str(index)})
    (corpus / "extra.md").unlink()
    assert stale.returncode == 1
    assert "1 guide file(s) added since the build: extra.md" in stale.stdout
    assert "python build_index.py" in stale.stdout


def test_the_advised_rebuild_repeats_the_flags_given_so_following_it_makes_the_index_fresh(cli_index, tmp_path):
    corpus, index = tmp_path / "my corpus", tmp_path / "my index"
    shutil.copytree(cli_index / "corpus", corpus)
    shutil.copytree(cli_index / "index", index)
    flags = ["--corpus", str(corpus), "--index", str(index), "--max-tokens", "100"]
    stale = run("build_index.py", "--check", *flags)
    assert stale.returncode == 1
    advice = stale.stdout.strip().splitlines()[-1]
    assert advice == f"Rebuild with: python build_index.py --corpus '{corpus}' --index '{index}' --max-tokens 100"
    assert run(*shlex.split(advice.removeprefix("Rebuild with: python "))).returncode == 0
    assert run("build_index.py", "--check", *flags).returncode == 0


def test_search_says_when_its_answers_come_from_an_index_older_than_the_guides(cli_index, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(cli_index / "corpus", corpus)
    shutil.copytree(cli_index / "index", index)
    assert run("build_index.py", "--corpus", str(corpus), "--index", str(index)).returncode == 0   # from this corpus
    env = {"GUIDESEARCH_CORPUS": str(corpus), "GUIDESEARCH_INDEX": str(index)}
    assert "note:" not in run("-m", "guidesearch", "search", "leg cramps", "-k", "1", env=env).stderr
    (corpus / "bananas.md").write_text("# Bananas\n\n## Use\n\nEat bananas for cramps.\n", encoding="utf-8")
    done = run("-m", "guidesearch", "search", "bananas for cramps", "-k", "1", "--json", env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["missing_terms"] == ["bananas"]
    assert done.stderr.splitlines()[-1] == ("note: the guides changed (1 added guide file(s)) after this index was "
                                            "built, so these answers may be out of date. Rebuild with: python "
                                            "build_index.py")
    # An index named without its corpus is compared with the corpus its manifest records, not the
    # default folder, and the advice rebuilds it from there (adversarial testing: the API's /index
    # compared it with corpus/ while /health and search said nothing).
    advice = f"Rebuild with: python build_index.py --corpus {corpus} --index {index}"
    named = run("-m", "guidesearch", "search", "leg cramps", "-k", "1", "--index", str(index)).stderr
    assert "note: the guides changed (1 added" in named and named.rstrip().endswith(advice)
    assert "note: the guides changed (1 added" in run("-m", "guidesearch", "search", "leg cramps", "-k", "1",
                                                      env={"GUIDESEARCH_INDEX": str(index)}).stderr
    # Another corpus than the one this index was built from: no stale copy of it (adversarial testing).
    other = tmp_path / "other"
    shutil.copytree(corpus, other)
    assert "note:" not in run("-m", "guidesearch", "search", "leg cramps", "-k", "1",
                              env={**env, "GUIDESEARCH_CORPUS": str(other)}).stderr
    (corpus / "bananas.md").unlink()
    # A setting search may choose for itself is no change to the guides (found by review).
    assert "note:" not in run("-m", "guidesearch", "search", "leg cramps", "-k", "1", "--backend", "onnx-int8",
                              env=env).stderr


@pytest.mark.parametrize("argv, env, command", [
    (["build", "--index", "i", "--backend", "torch"], {}, "python build_index.py --index i --backend torch"),
    # search's --backend runs its questions only: repeated, it would re-embed every passage (review)
    (["search", "q", "--index", "i", "--backend", "onnx-int8"], {},
     "python build_index.py --corpus <the guides' folder> --index i"),
    (["search", "q"], {"GUIDESEARCH_INDEX": "i"}, "python build_index.py --corpus <the guides' folder>"),
    (["search", "q", "--index", "i"], {"GUIDESEARCH_CORPUS": "c"}, "python build_index.py --index i"),
    (["search", "q"], {}, "python build_index.py"),
])
def test_the_advised_build_command_names_what_it_must_and_only_that(monkeypatch, argv, env, command):
    from guidesearch.cli import build_command, main_parser
    for name in ("GUIDESEARCH_INDEX", "GUIDESEARCH_CORPUS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert build_command(main_parser().parse_args(argv)) == command


def test_a_command_naming_no_corpus_reads_the_one_its_index_was_built_from(cli_index, tmp_path, monkeypatch):
    """Every command (a build and check too) compares the index with, and rebuilds it from, the
    corpus its manifest records, while that folder is there; a corpus named keeps its own."""
    from guidesearch.cli import build_command, main_parser, settings_from
    from guidesearch.config import Settings
    monkeypatch.delenv("GUIDESEARCH_CORPUS", raising=False)
    monkeypatch.delenv("GUIDESEARCH_INDEX", raising=False)
    index, built_from = str(cli_index / "index"), (cli_index / "corpus").resolve()
    parse = main_parser().parse_args
    corpus_of = lambda *argv: Path(settings_from(parse(list(argv))).corpus_dir)  # noqa: E731
    for argv in (["serve", "--index", index], ["mcp", "--index", index], ["search", "q", "--index", index],
                 ["evaluate", "q.jsonl", "--index", index], ["build", "--index", index], ["check", "--index", index]):
        assert corpus_of(*argv) == built_from, argv
    assert build_command(parse(["search", "q", "--index", index])) == \
        f"python build_index.py --corpus {built_from} --index {index}"
    assert corpus_of("serve", "--index", index, "--corpus", "elsewhere").name == "elsewhere"
    monkeypatch.setenv("GUIDESEARCH_CORPUS", "named")
    assert corpus_of("serve", "--index", index).name == "named"
    monkeypatch.delenv("GUIDESEARCH_CORPUS")
    # A recorded folder that is gone (the project moved, the index copied from elsewhere): the default stands.
    moved = tmp_path / "index"
    shutil.copytree(index, moved)
    manifest = moved / (moved / "CURRENT").read_text().strip() / "manifest.json"
    manifest.write_text(manifest.read_text().replace(json.dumps(str(built_from)), json.dumps(str(tmp_path / "gone"))))
    assert corpus_of("search", "q", "--index", str(moved)) == Path(Settings().corpus_dir)


def test_check_on_a_damaged_index_advises_the_rebuild_with_the_flags_given(cli_index, tmp_path):
    index = tmp_path / "damaged"
    shutil.copytree(cli_index / "index", index)
    (index / "CURRENT").write_text("build-nothing\n", encoding="utf-8")
    done = run("build_index.py", "--check", "--corpus", str(cli_index / "corpus"), "--index", str(index))
    assert done.returncode == 1
    assert done.stdout.strip().endswith(f"Rebuild it with: python build_index.py --corpus {cli_index / 'corpus'} "
                                        f"--index {index}")


def test_rebuild_without_change_reports_nothing_embedded(cli_index):
    done = run("build_index.py", "--corpus", str(cli_index / "corpus"), "--index", str(cli_index / "index"))
    assert done.returncode == 0
    assert "0 embedded, 22 reused" in done.stdout and "Nothing new to embed." in done.stdout


def test_search_prints_passages_with_their_section(cli_index):
    done = run("-m", "guidesearch", "search", "what is TENS?", "-k", "2", "--index", str(cli_index / "index"))
    assert done.returncode == 0, done.stderr
    assert "[1] Does Neuropathy Cause Leg Cramps > Management and Treatment Strategies > Alternative Therapies" in done.stdout
    assert "[3]" not in done.stdout


def test_search_names_words_the_guides_never_use_before_the_passages(cli_index):
    done = run("-m", "guidesearch", "search", "Can spinal stenosis cause leg cramps?", "-k", "1",
               "--index", str(cli_index / "index"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == \
        '(The guides don\'t use the word "stenosis": check whether the passages below speak of it.)'


def test_search_takes_top_k_spelt_out_as_the_api_spells_it(cli_index):
    done = run("-m", "guidesearch", "search", "what is TENS?", "--top-k", "1", "--index", str(cli_index / "index"))
    assert done.returncode == 0, done.stderr
    assert "[1] " in done.stdout and "[2]" not in done.stdout


def test_search_json_and_not_covered(cli_index):
    done = run("-m", "guidesearch", "search", "Is pickle juice good for leg cramps?", "--json",
               "--index", str(cli_index / "index"))
    data = json.loads(done.stdout)
    assert data["covered"] is False and data["missing_terms"] == ["pickle juice"]
    assert {"rank", "score", "source", "heading", "headings", "text"} <= set(data["hits"][0])


def test_evaluate_prints_metrics_and_writes_out_lines(cli_index, tmp_path):
    out = tmp_path / "results.jsonl"
    done = run("-m", "guidesearch", "evaluate", str(DATA / "seed_questions.jsonl"), "--index",
               str(cli_index / "index"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("Recall@1", "Recall@3", "Recall@5", "Recall@10", "MRR@10", "nDCG@10", "typo (", "lay ("):
        assert name in done.stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 60
    first = lines[0]
    assert {"id", "question", "hits", "covered"} <= set(first)
    assert {"rank", "score", "source", "heading", "headings", "text"} <= set(first["hits"][0])
    assert first["hits"][0]["source"] == "does-neuropathy-cause-leg-cramps.txt"


def test_evaluate_reads_all_three_kinds_of_line(cli_index, tmp_path):
    questions = tmp_path / "mixed.jsonl"
    questions.write_text("\n".join(json.dumps(line) for line in [
        {"id": "e", "question": "what is TENS", "evidence": ["TENS therapy uses low-voltage"]},
        {"id": "r", "question": "which drugs help", "relevant": [
            {"file": "does-neuropathy-cause-leg-cramps.txt", "heading": "Medications", "grade": 3}]},
        {"id": "n", "question": "how do I bake bread?", "expect": "none"}]) + "\n", encoding="utf-8")
    done = run("-m", "guidesearch", "evaluate", str(questions), "--index", str(cli_index / "index"))
    assert done.returncode == 0, done.stderr
    assert "2 answerable question(s)" in done.stdout and "Recall@1 1.000" in done.stdout
    assert "1 question(s) the corpus does not answer; flagged not covered: 1.000" in done.stdout
    assert "warning" not in done.stderr


def test_evaluate_warns_of_a_label_that_matches_nothing_rather_than_score_it_silently(cli_index, tmp_path):
    questions = tmp_path / "typo.jsonl"
    questions.write_text(json.dumps({"id": "m", "question": "which drugs help", "relevant": [
        {"file": "does-neuropathy-cause-leg-cramps.txt", "heading": "Medication"}]}) + "\n", encoding="utf-8")
    done = run("-m", "guidesearch", "evaluate", str(questions), "--index", str(cli_index / "index"))
    assert done.returncode == 0, done.stderr
    assert 'warning: m: does-neuropathy-cause-leg-cramps.txt has no section "Medication"; it counts as not ' \
           "found." in done.stderr.splitlines()


@pytest.mark.parametrize("args, message", [
    (["-m", "guidesearch", "search", "   "], "error: The question is empty"),
    (["-m", "guidesearch", "search", "?!"], "error: The question has no words"),
    (["-m", "guidesearch", "search", "cramps", "--index", "/nonexistent/idx"], "error: No index in /nonexistent/idx. Build it with: python build_index.py --corpus <the guides' folder> --index /nonexistent/idx"),
    (["build_index.py", "--corpus", "/nonexistent/corpus", "--index", "/tmp/unused-idx"], "error: The corpus folder /nonexistent/corpus does not exist"),
    (["build_index.py", "--corpus", str(SEED), "--index", "/tmp/unused-idx"],
     f"error: The corpus folder {SEED} is a file, not a folder: point --corpus"),
    (["build_index.py", "--max-file-bytes", "-1", "--check"],
     "error: The file size limit -1 (--max-file-bytes, GUIDESEARCH_MAX_FILE_BYTES) must be at least 1 byte."),
    (["build_index.py", "--max-tokens", "5", "--check"],
     "error: Tokens per chunk 5 (--max-tokens, GUIDESEARCH_MAX_TOKENS) is out of range: use 16 to 8192."),
    (["-m", "guidesearch", "evaluate", "/nonexistent.jsonl"], "error: Cannot read the question file"),
])
def test_bad_input_gives_one_clear_line_and_exit_1(cli_index, args, message):
    index_args = [] if "--index" in args else ["--index", str(cli_index / "index")]
    done = run(*args, *(index_args if args[0] == "-m" else []))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in done.stderr


def test_search_without_an_index_says_so_in_one_line_before_loading_the_model(tmp_path):
    # The model used to load first: its progress bar came before the one line that mattered.
    done = run("-m", "guidesearch", "search", "cramps", "--index", str(tmp_path / "index"))
    assert done.returncode == 1
    # search has no --corpus: the advice says to name the guides rather than build the default ones there.
    assert done.stderr == (f"error: No index in {tmp_path / 'index'}. Build it with: python build_index.py "
                           f"--corpus <the guides' folder> --index {tmp_path / 'index'}\n")


def test_bad_question_file_line_names_the_line(cli_index, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "ok", "evidence": ["x"]}\n{"id": "2"}\n', encoding="utf-8")
    done = run("-m", "guidesearch", "evaluate", str(bad), "--index", str(cli_index / "index"))
    assert done.returncode == 1 and f"{bad}:2: not a question line" in done.stderr


def test_empty_corpus_stops_the_build(tmp_path):
    (tmp_path / "corpus").mkdir()
    done = run("build_index.py", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"))
    assert done.returncode == 1 and "holds no guides" in done.stderr and "Traceback" not in done.stderr


def test_bad_guides_beside_a_good_one_build_with_exit_0(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    (corpus / "empty.md").write_text("")
    (corpus / "utf16.txt").write_text("Cramp Notes\nStretch before bed.\n", encoding="utf-16")
    done = run("build_index.py", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert done.returncode == 0, done.stderr
    assert "Indexed 2 guide(s)" in done.stdout and "Skipped empty.md: empty file" in done.stdout


def test_an_unexpected_error_is_one_line_pointing_at_debug(monkeypatch, capsys, tmp_path):
    from guidesearch import cli, freshness

    def broken(settings):
        raise RuntimeError("boom\nwith a second line")

    monkeypatch.setattr(freshness, "check_freshness", broken)
    args = ["check", "--corpus", str(tmp_path), "--index", str(tmp_path / "index")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: unexpected RuntimeError: boom with a second line.")
    assert "--debug" in err and "Traceback" not in err
    assert cli.main([*args, "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: unexpected RuntimeError")


def test_bad_setting_in_the_environment_is_one_line(tmp_path):
    done = run("build_index.py", "--check", "--corpus", str(tmp_path), "--index", str(tmp_path / "i"),
               env={"GUIDESEARCH_MAX_TOKENS": "lots"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "error: GUIDESEARCH_MAX_TOKENS='lots' is not a whole number: set it to one, or unset it."


@pytest.mark.parametrize("args", [["-m", "guidesearch", "search", "cramps", "-k", "abc"],
                                  ["-m", "guidesearch", "search", "cramps", "--mode", "bad"],
                                  ["-m", "guidesearch", "search", "cramps", "-k", "0"],
                                  ["-m", "guidesearch"],
                                  ["build_index.py", "--wait", "abc"],
                                  ["build_index.py", "--wait", "nan"],      # was "unexpected ValueError"
                                  ["build_index.py", "--wait", "-5"]])      # was taken as 0
def test_bad_arguments_are_one_line_too(args):
    done = run(*args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert "--help" in done.stderr and "usage" not in done.stderr


def test_a_question_that_starts_with_a_dash_is_told_where_it_goes():
    """Found by adversarial testing: "-cramps" is read as an option, and the question is missing."""
    done = run("-m", "guidesearch", "search", "-cramps")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and 'goes after "--"' in done.stderr
    assert 'goes after "--"' not in run("-m", "guidesearch", "search").stderr


def test_index_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "corpus").mkdir()
    shutil.copy(SEED, tmp_path / "corpus")
    (tmp_path / "afile").write_text("x")
    done = run("build_index.py", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "afile"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {tmp_path / 'afile'} is a file, not an index folder")


def test_evaluate_out_that_cannot_be_written_fails_before_the_run(cli_index):
    done = run("-m", "guidesearch", "evaluate", str(DATA / "seed_questions.jsonl"), "--index",
               str(cli_index / "index"), "--out", "/nonexistent/o.jsonl")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: Cannot write /nonexistent/o.jsonl (No such file or directory)")


def test_evaluate_refuses_to_write_its_results_over_its_questions(cli_index, tmp_path):
    """Found by adversarial testing: --out naming the question file replaced the questions."""
    questions = tmp_path / "q.jsonl"
    shutil.copy(DATA / "seed_questions.jsonl", questions)
    (tmp_path / "link.jsonl").symlink_to(questions)
    for out in (questions, tmp_path / "link.jsonl", tmp_path / "." / "q.jsonl"):
        done = run("-m", "guidesearch", "evaluate", str(questions), "--index", str(cli_index / "index"), "--out", str(out))
        assert done.returncode == 1 and "is the question file itself" in done.stderr and done.stdout == ""
    assert questions.read_bytes() == (DATA / "seed_questions.jsonl").read_bytes()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_under_the_output_is_one_line_not_a_bug(cli_index, tmp_path):
    """Found by adversarial testing: "unexpected OSError ... This is a bug" (exit 2)."""
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "guidesearch", "search", "leg cramps", "-k", "50",
                               "--index", str(cli_index / "index")], stdout=full, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1 and done.stderr.startswith("error: Cannot write the output (No space left on device)")
    assert done.stderr.count("\n") == 1
    done = run("-m", "guidesearch", "evaluate", str(DATA / "seed_questions.jsonl"), "--index",
               str(cli_index / "index"), "--out", "/dev/full")
    assert done.returncode == 1 and done.stderr.startswith("error: Cannot write /dev/full (No space left on device)")


def test_evaluate_out_is_replaced_whole_and_leaves_no_temporary_file(cli_index, tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text("an earlier run\n")
    questions = tmp_path / "q.jsonl"
    questions.write_text((DATA / "seed_questions.jsonl").read_text().splitlines()[0] + "\n")
    done = run("-m", "guidesearch", "evaluate", str(questions), "--index", str(cli_index / "index"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["id"] == "seed-001" and sorted(p.name for p in tmp_path.iterdir()) == \
        ["q.jsonl", "results.jsonl"]


def test_evaluate_out_writes_through_a_link_keeps_modes_and_writes_to_dev_stdout(cli_index, tmp_path):
    """Found by review: a link given as --out was replaced by a file, a new file got mode 0600,
    and /dev/stdout (a link) was to be replaced by a file."""
    questions = tmp_path / "q.jsonl"
    questions.write_text((DATA / "seed_questions.jsonl").read_text().splitlines()[0] + "\n")
    (tmp_path / "target.jsonl").write_text("old\n")
    (tmp_path / "link.jsonl").symlink_to("target.jsonl")
    index = ["--index", str(cli_index / "index")]
    assert run("-m", "guidesearch", "evaluate", str(questions), *index, "--out", str(tmp_path / "link.jsonl")).returncode == 0
    assert (tmp_path / "link.jsonl").is_symlink() and '"seed-001"' in (tmp_path / "target.jsonl").read_text()
    (tmp_path / "shared.jsonl").write_text("old\n")
    os.chmod(tmp_path / "shared.jsonl", 0o644)
    for name in ("shared.jsonl", "new.jsonl"):
        assert run("-m", "guidesearch", "evaluate", str(questions), *index, "--out", str(tmp_path / name)).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "shared.jsonl").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "new.jsonl").stat().st_mode & 0o777 == 0o666 & ~umask
    with open(tmp_path / "stdout.txt", "w") as stdout:
        done = subprocess.run([sys.executable, "-m", "guidesearch", "evaluate", str(questions), *index, "--out",
                               "/dev/stdout"], stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and '"seed-001"' in (tmp_path / "stdout.txt").read_text()
    assert Path("/dev/stdout").is_symlink()


def test_a_closed_pipe_ends_the_cli_quietly(cli_index):
    command = (f"{sys.executable} -m guidesearch search 'leg cramps at night' --json --index "
               f"{cli_index / 'index'} | head -c 100")
    done = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert len(done.stdout) == 100 and "Traceback" not in done.stderr and "Error" not in done.stderr


def test_a_build_whose_reader_leaves_goes_on_and_answers(tmp_path):
    """Found by adversarial testing: "build_index.py | head -1" stopped at its second line,
    built nothing, and exited 0 with nothing on stderr. The build now finishes, its report
    going nowhere once the reader has left."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    child = subprocess.Popen([sys.executable, "build_index.py", "--corpus", str(corpus), "--index", str(index)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().startswith("Read 1 guide(s)")
    child.stdout.close()                            # the reader leaves before the rest is written
    err = child.stderr.read()
    assert child.wait(timeout=300) == 0 and err == ""
    check = run("build_index.py", "--corpus", str(corpus), "--index", str(index), "--check")
    assert check.returncode == 0, check.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_build_whose_report_meets_a_full_disk_says_so_once_and_finishes(tmp_path):
    """Found by review: the build went on, as for a closed pipe, but said nothing."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "build_index.py", "--corpus", str(corpus), "--index", str(index)],
                              cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 0
    assert done.stderr == "warning: Cannot write the build's report (No space left on device); the build goes on.\n"
    assert run("build_index.py", "--corpus", str(corpus), "--index", str(index), "--check").returncode == 0


def test_the_packaged_model_has_one_name(cli_index):
    done = run("build_index.py", "--check", "--corpus", str(cli_index / "corpus"), "--index",
               str(cli_index / "index"), "--model", "sentence-transformers/all-MiniLM-L6-v2")
    assert done.returncode == 0, done.stdout


def test_sigterm_ends_a_build_in_one_line_and_leaves_the_previous_index(tmp_path):
    import signal
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    assert run("build_index.py", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    before = (index / "CURRENT").read_text()
    for i in range(300):
        (corpus / f"guide-{i}.md").write_text(f"# Guide {i}\n\n## Part\n\nNote {i} on cramps and nerves.\n")
    child = subprocess.Popen([sys.executable, "build_index.py", "--corpus", str(corpus), "--index", str(index)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout.readline().startswith("Read 301 guide(s)")
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130
    assert err == "error: interrupted. The build was not finished; the previous index still answers.\n"
    assert (index / "CURRENT").read_text() == before and not list(index.glob(".staging-*"))
    check = run("build_index.py", "--corpus", str(corpus), "--index", str(index), "--check")
    assert check.returncode == 1 and "300 guide file(s) added" in check.stdout


def test_check_on_a_missing_corpus_says_the_folder_is_missing(cli_index):
    done = run("build_index.py", "--check", "--corpus", "/nonexistent/corpus", "--index", str(cli_index / "index"))
    assert done.returncode == 1 and "removed" not in done.stdout
    assert done.stdout.startswith("The corpus folder /nonexistent/corpus does not exist.")
    assert "Rebuild with" not in done.stdout


@pytest.fixture(params=["300k", "16k"])
def tiny_disk(tmp_path, request):
    """A small tmpfs as the index folder (CI runs as root, which may mount): 300 KB holds the
    seed guide's vectors but not the rest of the build, 16 KB not even the vectors (FAISS's own
    writer reported that as a bug: found by adversarial testing)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_fails_in_one_line_and_retries_leave_nothing_behind(tmp_path, tiny_disk):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    for _ in range(2):
        done = run("build_index.py", "--corpus", str(corpus), "--index", str(tiny_disk))
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"error: No space left where the index is written ({tiny_disk})")
        assert "previous index" not in done.stderr          # there is none
        assert not list(tiny_disk.glob(".staging-*")) and not (tiny_disk / "CURRENT").exists()


def test_a_read_only_index_folder_fails_in_one_line_and_the_index_still_answers(tmp_path):
    corpus, folder = tmp_path / "corpus", tmp_path / "ro"
    corpus.mkdir()
    folder.mkdir()
    shutil.copy(SEED, corpus)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(folder)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert run("build_index.py", "--corpus", str(corpus), "--index", str(folder)).returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        (corpus / "new.md").write_text("# New\n\n## Part\n\nShin splints from hard ground.\n")
        done = run("build_index.py", "--corpus", str(corpus), "--index", str(folder))
        assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "Read-only file system" in done.stderr and "previous index still answers" in done.stderr
        search = run("-m", "guidesearch", "search", "gabapentin", "--index", str(folder))
        assert search.returncode == 0 and "Medications" in search.stdout
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def build_in_process(small_settings, fake_encoder, monkeypatch):
    """build_index.py's command run in this process with the fake encoder; the signal handlers
    it changes are put back afterwards."""
    import signal

    import guidesearch.embed
    from guidesearch.cli import OneLineParser, build_parser, run as run_cli
    monkeypatch.setattr(guidesearch.embed, "passage_encoder", lambda settings: fake_encoder)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    argv = ["--corpus", str(small_settings.corpus_dir), "--index", str(small_settings.index_dir),
            "--model", fake_encoder.name]
    yield lambda: run_cli(build_parser(OneLineParser()), argv)
    for number, handler in handlers.items():
        signal.signal(number, handler)


def test_a_signal_after_the_build_is_switched_in_interrupts_nothing(build_in_process, capsys):
    """Found killing builds at random moments: a SIGTERM in the second torch takes to shut down
    after the summary printed a traceback from an atexit hook, and a Ctrl-C there exited 130
    although the new build answered."""
    import signal
    assert build_in_process() == 0
    assert "Indexed 2 guide(s)" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN and signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_an_interrupt_after_the_switch_says_the_new_build_answers(build_in_process, small_settings, monkeypatch,
                                                                  capsys):
    import guidesearch.build
    real_build = guidesearch.build.build_index

    def build_then_interrupted(*args, **kwargs):
        real_build(*args, **kwargs)
        raise KeyboardInterrupt         # Ctrl-C while the old builds are being removed
    monkeypatch.setattr(guidesearch.build, "build_index", build_then_interrupted)
    assert build_in_process() == 130
    answering = (small_settings.index_dir / "CURRENT").read_text().strip()
    assert capsys.readouterr().err == (f"error: interrupted. The new build had already been switched in and "
                                       f"answers ({answering}).\n")


def test_search_text_names_the_other_places_holding_a_passage(small_settings, fake_encoder, monkeypatch, capsys):
    from guidesearch import cli
    from guidesearch.build import build_index
    from guidesearch.retrieve import Searcher
    for name in ("one", "two"):
        (small_settings.corpus_dir / f"{name}.md").write_text(
            f"# Guide {name}\n\n## Notes {name}\n\nChromium picolinate is sold for blood sugar.\n", encoding="utf-8")
    build_index(small_settings, fake_encoder)
    monkeypatch.setattr(cli, "open_searcher", lambda settings: Searcher.open(small_settings, fake_encoder))
    assert cli.main(["search", "Chromium picolinate is sold for blood sugar", "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("Chromium picolinate is sold") == 1
    assert "(also in: two.md > Notes two)" in out or "(also in: one.md > Notes one)" in out


def test_a_build_with_no_guide_left_says_the_previous_index_still_answers(build_in_process, small_settings, capsys):
    """Found by adversarial testing: other failed builds said so, this one did not."""
    assert build_in_process() == 0
    for guide in small_settings.corpus_dir.rglob("*.md"):
        guide.write_text("", encoding="utf-8")          # every guide emptied: none can be indexed
    assert build_in_process() == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: No guide in {small_settings.corpus_dir} could be indexed")
    assert err.endswith("The build was not finished; the previous index still answers.\n") and err.count("\n") == 1


def test_check_with_every_guide_gone_does_not_advise_a_rebuild_that_would_fail(build_in_process, small_settings,
                                                                               capsys):
    from guidesearch import cli
    assert build_in_process() == 0
    capsys.readouterr()
    for guide in small_settings.corpus_dir.rglob("*.md"):
        guide.unlink()
    args = ["check", "--corpus", str(small_settings.corpus_dir), "--index", str(small_settings.index_dir),
            "--model", small_settings.model_name]
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "2 guide file(s) removed since the build" in out and "holds no guide now" in out
    assert "Rebuild with" not in out


def test_an_interrupt_after_another_builds_switch_says_this_one_did_not_finish(build_in_process, monkeypatch,
                                                                                capsys):
    """Found by review: a build queued with --wait behind another, then interrupted, claimed the
    other build's switch as its own."""
    import os

    import guidesearch.build
    import guidesearch.store
    real_build = guidesearch.build.build_index

    def another_process_built(*args, **kwargs):
        monkeypatch.setattr(guidesearch.store.os, "getpid", lambda: os.getppid())     # the other build's id
        real_build(*args, **kwargs)
        monkeypatch.undo()
        raise KeyboardInterrupt
    monkeypatch.setattr(guidesearch.build, "build_index", another_process_built)
    assert build_in_process() == 130
    assert capsys.readouterr().err == "error: interrupted. The build was not finished; the previous index still answers.\n"


def test_bidirectional_controls_in_a_guide_are_escaped_in_the_terminal(tmp_path, fake_encoder, monkeypatch, capsys):
    """Found by adversarial testing: a heading holding U+202E (right-to-left override) printed
    raw, and could show the rest of the line, source and score included, reversed."""
    from conftest import make_corpus
    from guidesearch import cli
    from guidesearch.build import build_index
    from guidesearch.config import Settings
    from guidesearch.retrieve import Searcher
    corpus = make_corpus(tmp_path / "corpus", {"bidi.md": "# Bidi \u202eGuide\u202c Title\n\n## Part \u202eevil\n\n"
                                                          "Leg cramps at night \u2067often\u2069 ease with stretching.\n"
                                                          "[2] Fake > Heading  (fake.md, score 0.990, strong match)\n"})
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=fake_encoder.name)
    build_index(settings, fake_encoder)
    monkeypatch.setattr(cli, "open_searcher", lambda _: Searcher.open(settings, fake_encoder))
    assert cli.main(["search", "leg cramps stretching", "--index", str(tmp_path / "index"), "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "Part \\u202eevil" in out and "\\u2067often\\u2069" in out
    assert not any(line.startswith("[2]") for line in out.splitlines())     # a guide's line is indented
    assert cli.main(["search", "leg cramps stretching", "--index", str(tmp_path / "index"), "-k", "1", "--json"]) == 0
    printed = capsys.readouterr().out
    assert "\u202e" not in printed and json.loads(printed)["hits"][0]["heading"] == "Part \u202eevil"   # JSON's own escape


def test_a_build_folder_or_a_file_given_as_the_index_is_named_for_what_it_is(cli_index, capsys):
    """Found by adversarial testing: both answered "No index ... Build it with ... --index
    <that path>", advice that nests an index inside a build, or fails."""
    from guidesearch import cli
    index = cli_index / "index"
    build = index / (index / "CURRENT").read_text().strip()
    assert cli.main(["search", "cramps", "--index", str(build)]) == 1
    assert capsys.readouterr().err == (f"error: {build} is one build inside the index {index}: give --index "
                                       f"(or GUIDESEARCH_INDEX) {index} instead.\n")
    assert cli.main(["build", "--corpus", str(cli_index / "corpus"), "--index", str(build)]) == 1
    assert "is one build inside the index" in capsys.readouterr().err and not (build / "CURRENT").exists()
    assert cli.main(["search", "cramps", "--index", str(index / "CURRENT")]) == 1
    assert "CURRENT is a file, not an index folder" in capsys.readouterr().err
    # Inside a build (adversarial testing: an index was built there), and --check naming either.
    assert cli.main(["build", "--corpus", str(cli_index / "corpus"), "--index", str(build / "bm25")]) == 1
    assert f"is inside {build.name}, one build of the index {index}" in capsys.readouterr().err
    for named in (build, build / "sub", index / "CURRENT"):
        assert cli.main(["check", "--index", str(named)]) == 1
        printed = capsys.readouterr().out
        assert ("one build" in printed or "is a file" in printed) and "Rebuild with" not in printed


def test_with_the_recorded_corpus_gone_every_view_compares_the_default_one(tmp_path, fake_encoder, monkeypatch):
    """Found by adversarial testing: the index fell back to corpus/ when its own was moved, and
    /index listed a guide removed while search and /health said nothing."""
    from guidesearch.build import build_index
    from guidesearch.cli import main_parser, settings_from
    from guidesearch.config import Settings
    from guidesearch.freshness import check_freshness, stale_note
    monkeypatch.delenv("GUIDESEARCH_CORPUS", raising=False)
    corpus = tmp_path / "A"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    (corpus / "extra.md").write_text("# Extra\n\n## Part\n\nMore about cramps.\n")
    build_index(Settings(corpus_dir=corpus, index_dir=tmp_path / "I", model_name=fake_encoder.name), fake_encoder)
    corpus.rename(tmp_path / "A2")
    settings = settings_from(main_parser().parse_args(["search", "q", "--index", str(tmp_path / "I")]))
    assert Path(settings.corpus_dir) == Path(Settings().corpus_dir)       # the default, which holds the seed guide
    assert check_freshness(settings).removed == ("extra.md",)
    assert "1 removed" in stale_note(settings)
