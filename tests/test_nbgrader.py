"""The notebooks in real nbgrader, as a teacher adopts them, with no edits.

(a) every stored notebook carries the nbgrader cell metadata that tools/run_notebooks.py derives
    from its tags (so nothing is kept by hand);
(b) in a temporary course with one assignment per notebook, `nbgrader generate_assignment`
    releases every notebook, with the same sources as tools/student.py's copy;
(c) `nbgrader autograde` gives the instructor notebook full marks on every autograded cell and
    the released stub zero everywhere.

nbgrader runs as the command a teacher types, in subprocesses, so its own warnings do not meet
pytest's filterwarnings = error; they are read from its log instead (KNOWN_WARNINGS).
"""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from test_classroom import FIXTURE, SOURCES, load_tool, read, student_copy, tagged

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # nbgrader calls `alembic` from PATH: this environment's
run_notebooks = load_tool("run_notebooks")
STUDENTS = ("instructor", "stub")  # who hands in the instructor notebook, who the released stub
# Warnings nbgrader's own code prints, which we cannot fix here; any other fails test_log.
KNOWN_WARNINGS = {
    # nbgrader 0.9's gradebook adds objects in an order SQLAlchemy 2.1 warns about (api.py).
    "SAWarning",
}

parametrize_sources = pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])


def assignment(path):
    """One assignment per notebook: ps00 for the fixture, ps01 for notebooks/01-..., ..."""
    return "ps00" if path == FIXTURE else f"ps{path.name[:2]}"


# (a) the metadata is derived, not kept by hand ----------------------------------------------


@parametrize_sources
def test_nbgrader_metadata_is_what_run_notebooks_derives(path):
    nb = read(path)
    derived = run_notebooks.nbgrader_metadata(nb, path.name)
    stored = [cell.metadata.get("nbgrader") for cell in nb.cells]
    wrong = [f"cell {i + 1} (id {cell.id}): stored {s}, derived {d}"
             for i, (cell, s, d) in enumerate(zip(nb.cells, stored, derived)) if s != d]
    assert not wrong, (f"{path.name}: nbgrader metadata out of date; re-run "
                       f"tools/run_notebooks.py on it: {wrong}")


def test_derived_metadata_follows_the_tags():
    new = nbformat.v4
    nb = new.new_notebook(cells=[
        new.new_markdown_cell("## Exercises"),
        new.new_markdown_cell("### Exercise 3.2 (stretch): Two parts\n*(Our own.)*"),
        new.new_code_cell("### BEGIN SOLUTION\na = 1\n### END SOLUTION", metadata={"tags": ["solution"]}),
        new.new_code_cell("assert a", metadata={"tags": ["self-check"]}),
        new.new_code_cell("### BEGIN SOLUTION\nb = 1\n### END SOLUTION", metadata={"tags": ["solution"]}),
        new.new_code_cell("assert b", metadata={"tags": ["self-check"]}),
        new.new_markdown_cell("**Question.** Why?"),
        new.new_markdown_cell("Because.", metadata={"tags": ["answer"]}),
        new.new_code_cell("print(1)", metadata={"tags": ["raises-exception"]}),
    ])
    derived = run_notebooks.nbgrader_metadata(nb)
    assert [d and d["grade_id"] for d in derived] == [
        None, None, "ex-3-2-solution", "ex-3-2-check", "ex-3-2-solution-2", "ex-3-2-check-2",
        None, "ex-3-2-answer", None]
    solution, check, answer = derived[2], derived[3], derived[7]
    assert (solution["solution"], solution["grade"], solution["locked"]) == (True, False, False)
    assert (check["solution"], check["grade"], check["locked"], check["points"]) == (False, True, True, 1)
    assert (answer["solution"], answer["grade"], answer["locked"], answer["points"]) == (True, True, False, 1)
    assert all(d is None or d["schema_version"] == 3 for d in derived)
    run_notebooks.normalize(nb)
    assert [c.metadata.get("nbgrader") for c in nb.cells] == derived
    nb.cells[3].metadata["tags"] = []  # a tag taken away takes its metadata with it
    assert "nbgrader" not in run_notebooks.normalize(nb).cells[3].metadata


@pytest.mark.parametrize("cells, message", [
    ([nbformat.v4.new_code_cell("x", metadata={"tags": ["solution"]})], "outside an exercise"),
    ([nbformat.v4.new_markdown_cell("### Exercise 1.1: A"),
      nbformat.v4.new_code_cell("x", metadata={"tags": ["answer"]})], "belongs on a markdown cell"),
    ([nbformat.v4.new_markdown_cell("### Exercise 1.1: A"),
      nbformat.v4.new_code_cell("x", metadata={"tags": ["solution", "self-check"]})], "tagged both"),
    ([nbformat.v4.new_markdown_cell("### Exercise 1.1: A\n\n## Afterwards"),
      nbformat.v4.new_code_cell("x", metadata={"tags": ["self-check"]})], "outside an exercise"),
], ids=["no-exercise", "answer-on-code", "two-roles", "after-the-exercise"])
def test_tags_that_cannot_be_graded_fail_loudly(cells, message):
    with pytest.raises(run_notebooks.TagError, match=message):
        run_notebooks.nbgrader_metadata(nbformat.v4.new_notebook(cells=cells), "bad.ipynb")


def test_code_blocks_and_model_answers_open_and_close_no_exercise():
    new = nbformat.v4
    nb = new.new_notebook(cells=[
        new.new_markdown_cell("### Exercise 1.2: A\n\n```\n# # #\n## not a heading\n```"),
        new.new_markdown_cell("# # . #\n# # # #", metadata={"tags": ["answer"]}),
        new.new_code_cell("x", metadata={"tags": ["self-check"]}),
    ])
    assert [d and d["grade_id"] for d in run_notebooks.nbgrader_metadata(nb)] == [
        None, "ex-1-2-answer", "ex-1-2-check"]


# (b), (c) a course in real nbgrader ----------------------------------------------------------


SCORES = textwrap.dedent("""
    import json, sys
    from nbgrader.api import Gradebook
    rows = []
    with Gradebook(sys.argv[1]) as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        rows.append(dict(assignment=assignment.name, student=submission.student.id,
                                         cell=grade.name, cell_type=grade.cell.cell_type,
                                         auto_score=grade.auto_score, max_score=grade.max_score,
                                         needs_manual_grade=grade.needs_manual_grade))
    print(json.dumps(rows))
""")


def nbgrader(course, *args):
    """Run `nbgrader ARGS` in the course folder; return (exit status, its log)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter")}  # no teacher's config of this machine
    run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                         capture_output=True, text=True)
    return run.returncode, run.stdout + run.stderr


@functools.cache
def course_run(root):
    """Build the course under `root`, release, hand in, autograde; return what happened."""
    course = Path(root) / "course"
    ids = [assignment(path) for path in SOURCES]
    for path, name in zip(SOURCES, ids):
        (course / "source" / name).mkdir(parents=True)
        shutil.copy(path, course / "source" / name / path.name)
    (course / "nbgrader_config.py").write_text(textwrap.dedent(f"""\
        c = get_config()
        c.CourseDirectory.root = {str(course)!r}
        c.CourseDirectory.db_assignments = {[dict(name=name) for name in ids]!r}
        c.CourseDirectory.db_students = {[dict(id=student) for student in STUDENTS]!r}
        c.Execute.timeout = {run_notebooks.TIMEOUT}  # seconds per cell, as tools/run_notebooks.py
        """))
    generated = nbgrader(course, "generate_assignment", "--assignment=*")
    for path, name in zip(SOURCES, ids):
        released = course / "release" / name / path.name
        for student, notebook in zip(STUDENTS, (path, released)):
            if notebook.exists():
                (course / "submitted" / student / name).mkdir(parents=True, exist_ok=True)
                shutil.copy(notebook, course / "submitted" / student / name / path.name)
    autograded = nbgrader(course, "autograde", "--assignment=*")
    scores = subprocess.run([sys.executable, "-c", SCORES, f"sqlite:///{course / 'gradebook.db'}"],
                            capture_output=True, text=True, check=True)
    return dict(course=course, generated=generated, autograded=autograded,
                scores=json.loads(scores.stdout))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return course_run(str(tmp_path_factory.mktemp("nbgrader")))


def grades(course, path, student):
    """{grade id: row} of one student's notebook in the gradebook."""
    return {row["cell"]: row for row in course["scores"]
            if row["assignment"] == assignment(path) and row["student"] == student}


def graded_cells(path):
    """{grade id: cell type} of the cells nbgrader grades, from the stored metadata."""
    return {cell.metadata.nbgrader.grade_id: cell.cell_type for cell in read(path).cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


@parametrize_sources
def test_generate_assignment_releases_the_student_copy(course, path):
    released = course["course"] / "release" / assignment(path) / path.name
    errors = [line for line in course["generated"][1].splitlines()
              if "ERROR" in line and assignment(path) in line]
    assert released.exists(), (f"{path.name}: nbgrader generate_assignment did not release it: "
                               f"{errors}\n{course['generated'][1][-3000:]}")
    ours = [cell.source for cell in student_copy(path).cells]
    theirs = [cell.source for cell in read(released).cells]
    assert theirs == ours, f"{path.name}: nbgrader's release and tools/student.py's copy differ"


@parametrize_sources
def test_autograde_gives_the_instructor_notebook_full_marks(course, path):
    expected = graded_cells(path)
    assert any(kind == "code" for kind in expected.values()), f"{path.name}: no autograded cell"
    got = grades(course, path, "instructor")
    assert set(got) == set(expected), (f"{path.name}: graded cells {sorted(got)}, expected "
                                       f"{sorted(expected)}\n{course['autograded'][1][-3000:]}")
    short = {name: (row["auto_score"], row["max_score"]) for name, row in got.items()
             if expected[name] == "code" and row["auto_score"] != row["max_score"]}
    assert not short, f"{path.name}: autograded cells below full marks: {short}"
    written = [name for name, kind in expected.items() if kind == "markdown"]
    assert all(got[name]["needs_manual_grade"] for name in written), "answers are graded by hand"


@parametrize_sources
def test_autograde_gives_the_released_stub_zero(course, path):
    expected = graded_cells(path)
    assert expected, f"{path.name}: no cell that nbgrader grades"
    got = grades(course, path, "stub")
    assert set(got) == set(expected), f"{path.name}: the stub was not graded"
    scored = {name: row["auto_score"] for name, row in got.items() if row["auto_score"] != 0}
    assert not scored, f"{path.name}: points for the untouched stub: {scored}"


def test_nbgrader_warns_only_as_known(course):
    for step in ("generated", "autograded"):
        kinds = set(re.findall(r"\b(\w+Warning):", course[step][1]))
        assert kinds <= KNOWN_WARNINGS, f"nbgrader {step}: new warnings {kinds - KNOWN_WARNINGS}"
