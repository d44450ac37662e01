"""The classroom tools: student copies (tools/student.py) and the static site (tools/site.py).

Every check runs on the fixture tests/fixtures/exercises.ipynb and on each notebook in notebooks/:
(a) no solution line and no model answer survives in a student copy;
(b) every student copy runs top to bottom, with errors only in `raises-exception` cells;
(c) every self-check fails on the stub (in the student copy, and again with only its own solution
    stubbed) and passes on the solution;
(d) the site has a page per notebook, linked from the index and to its neighbours, with every figure;
(e) what a learner must find in a student copy is there: the key terms of the chapter;
    and what they must not find is not: the answer values listed in a solution cell's
    metadata `d2lmini.answers`, anywhere in that exercise's cells.
"""

import collections
import concurrent.futures
import doctest
import functools
import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "exercises.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = [FIXTURE, *NOTEBOOKS]  # instructor notebooks, executed and saved
MODEL_ANSWER = re.compile(r"<details>\s*<summary>[^\n]*?Model answer.*?</summary>(.*?)</details>",
                          re.DOTALL | re.IGNORECASE)


def load_tool(name):
    """Import tools/<name>.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


student = load_tool("student")
run_notebooks = load_tool("run_notebooks")


def read(path):
    return nbformat.read(path, as_version=4)


def tagged(cell, tag):
    return tag in cell.metadata.get("tags", [])


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def exercise_of(nb, index):
    """The `### Exercise ...` heading above cell `index`, for messages."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("### Exercise"):
                    return line[4:].strip()
    return f"cell {index + 1}"


def secret_and_public_lines(nb):
    """Counters of the stripped, non-blank lines inside and outside solutions and model answers.

    Written independently of tools/student.py, so the test does not trust the tool's parser.
    """
    secret, public = collections.Counter(), collections.Counter()
    for cell in nb.cells:
        source = cell.source
        if cell.cell_type == "markdown" and tagged(cell, "answer"):
            secret.update(line.strip() for line in source.splitlines() if line.strip())
            continue
        if cell.cell_type == "markdown":
            for answer in MODEL_ANSWER.findall(source):
                secret.update(line.strip() for line in answer.splitlines() if line.strip())
            source = MODEL_ANSWER.sub("", source)
        inside = False
        for line in source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif line.strip():
                (secret if inside else public)[line.strip()] += 1
    return secret, public


@functools.cache
def student_copy(path):
    return student.student_copy(read(path), path.name)[0]


def execute(nb, folder):
    """Run `nb` top to bottom in a fresh kernel in `folder`, keeping errors in the outputs."""
    return run_notebooks.execute(nb, folder, allow_errors=True)


def one_stub_at_a_time(path):
    """The instructor notebook with a probe before each solution: its stub, then its self-check.

    Each probe self-check thus runs with only its own solution missing and every earlier exercise
    solved, as for a learner who works in order; it catches a self-check that an earlier
    exercise's names would satisfy, which the student copy (all stubs) can hide.
    """
    nb = read(path)
    cells = []
    for i, cell in enumerate(nb.cells):
        check = next((c for c in nb.cells[i + 1:] if c.cell_type == "code"), None)
        if tagged(cell, "solution") and check is not None and tagged(check, "self-check"):
            stub, _ = student.clear_solutions(cell.source, student.CODE_STUB)
            probe_check = nbformat.v4.new_code_cell(check.source, metadata={"tags": ["probe-check"]})
            cells += [nbformat.v4.new_code_cell(stub, metadata={"tags": ["probe"]}), probe_check]
        cells.append(cell)
    nb.cells = cells
    return nb


@functools.cache
def executed():
    """Every run the checks need, two kernels at a time: {(kind, path): executed notebook}.

    'student' is the student copy (every solution a stub, not the cached copy), 'probe' the
    instructor notebook with one stub at a time (see one_stub_at_a_time).
    """
    jobs = {}
    for path in SOURCES:
        jobs["student", path] = (student.student_copy(read(path), path.name)[0], path.parent)
        jobs["probe", path] = (one_stub_at_a_time(path), path.parent)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(lambda job: execute(*job), jobs.values())))


def executed_student_copy(path):
    return executed()["student", path]


def executed_one_stub_at_a_time(path):
    return executed()["probe", path]


parametrize_sources = pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])


def test_real_notebooks_are_checked_too():
    if not NOTEBOOKS:
        pytest.skip("no notebooks in notebooks/ yet: only the fixture is checked")


# (a) nothing of the solutions in a student copy ---------------------------------------------


@parametrize_sources
def test_no_solution_survives_in_the_student_copy(path):
    secret, public = secret_and_public_lines(read(path))
    assert secret, f"{path.name}: no solution region and no model answer found"
    copy = student_copy(path)
    in_copy = collections.Counter(line.strip() for cell in copy.cells
                                  for line in cell.source.splitlines())
    leaked = sorted(line for line in secret if in_copy[line] > public[line])
    assert not leaked, f"{path.name}: solution lines in the student copy: {leaked}"
    assert not any("model answer" in cell.source.lower() for cell in copy.cells)


@parametrize_sources
def test_model_answers_sit_in_answer_cells(path):
    # nbgrader clears an `answer` cell (a manually graded answer), but it would release a
    # <details> model answer inside a question cell as it is.
    nb = read(path)
    inline = [exercise_of(nb, i) for i, cell in enumerate(nb.cells)
              if cell.cell_type == "markdown" and not tagged(cell, "answer")
              and MODEL_ANSWER.search(cell.source)]
    assert not inline, (f"{path.name}: model answers inside question cells, in {inline}; move "
                        "each into a markdown cell of its own, tagged `answer`")
    empty = [exercise_of(nb, i) for i, cell in enumerate(nb.cells)
             if tagged(cell, "answer") and not cell.source.strip()]
    assert not empty, f"{path.name}: empty `answer` cells in {empty}"


@parametrize_sources
def test_student_copy_clears_solution_outputs_and_keeps_hints(path):
    nb, copy = read(path), student_copy(path)
    for cell in copy.cells:
        if tagged(cell, "solution") or tagged(cell, "self-check"):
            assert cell.outputs == [] and cell.execution_count is None
            assert tagged(cell, "raises-exception")
    hints = [sum(cell.source.count("<summary>Hint</summary>") for cell in n.cells) for n in (nb, copy)]
    assert hints[0] == hints[1], f"{path.name}: {hints[0]} hints, {hints[1]} in the student copy"


# (b) a student copy runs top to bottom -------------------------------------------------------


@parametrize_sources
def test_student_copy_runs_top_to_bottom(path):
    nb = executed_student_copy(path)
    unexpected = [f"cell {i + 1} ({exercise_of(nb, i)}): {e.ename}: {e.evalue}"
                  for i, cell in enumerate(nb.cells) if not tagged(cell, "raises-exception")
                  for e in errors(cell)]
    assert not unexpected, f"{path.name}: errors outside `raises-exception` cells: {unexpected}"


# (c) self-checks: fail on the stub, pass on the solution ------------------------------------


@parametrize_sources
def test_every_solution_is_followed_by_a_self_check(path):
    nb = read(path)
    code = [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    solutions = [k for k, (_, cell) in enumerate(code) if tagged(cell, "solution")]
    assert solutions, f"{path.name}: no exercise with a `solution` cell"
    unchecked = [exercise_of(nb, code[k][0]) for k in solutions
                 if k + 1 == len(code) or not tagged(code[k + 1][1], "self-check")]
    assert not unchecked, f"{path.name}: no self-check cell right after the solution of {unchecked}"


def exercises_with(nb, tag, failed):
    """The exercises whose cells tagged `tag` failed (or passed, with failed=False) in run `nb`."""
    return [exercise_of(nb, i) for i, cell in enumerate(nb.cells)
            if tagged(cell, tag) and bool(errors(cell)) == failed]


@parametrize_sources
def test_self_checks_fail_on_the_stub(path):
    passing = exercises_with(executed_student_copy(path), "self-check", failed=False)
    assert not passing, f"{path.name}: self-checks that pass in the student copy: {passing}"


@parametrize_sources
def test_self_checks_fail_on_the_stub_after_earlier_exercises_are_solved(path):
    nb = executed_one_stub_at_a_time(path)
    passing = exercises_with(nb, "probe-check", failed=False)
    assert not passing, (f"{path.name}: self-checks that pass on their stub once the earlier "
                         f"exercises are solved: {passing}")
    failing = exercises_with(nb, "self-check", failed=True)
    assert not failing, f"{path.name}: self-checks that fail on the solution after its stub: {failing}"


@parametrize_sources
def test_self_checks_pass_on_the_solution(path):
    # The saved outputs are the executed instructor notebook; nbval checks that they are current.
    nb = read(path)
    never_run = [i + 1 for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and c.source.strip() and c.execution_count is None]
    assert not never_run, f"{path.name}: cells {never_run} were never run (make notebooks)"
    failing = []
    for i, cell in enumerate(nb.cells):
        if tagged(cell, "self-check"):
            printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
            if errors(cell) or not re.search(r"\bcorrect\b", printed):  # not "incorrect"
                failing.append(exercise_of(nb, i))
    assert not failing, (f"{path.name}: on the solution, these self-checks fail "
                         f"or print no 'correct': {failing}")


# student.py itself ---------------------------------------------------------------------------


def test_student_doctests():
    assert doctest.testmod(student).failed == 0


def test_stubs_keep_the_indentation_of_begin():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n"
                                  "    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
                                  "### BEGIN SOLUTION\ny = f(1)\n### END SOLUTION",
                                  metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("Answer:\n### BEGIN SOLUTION\nbecause.\n### END SOLUTION"),
    ])
    copy, counts = student.student_copy(nb)
    assert copy.cells[0].source == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                    "# YOUR CODE HERE\nraise NotImplementedError()")
    assert copy.cells[1].source == "Answer:\nYOUR ANSWER HERE"
    assert counts == {"solutions": 3, "model answers": 0}
    assert "return 2 * x" in nb.cells[0].source  # the instructor notebook is left alone


def test_answer_cell_becomes_the_text_stub():
    cells = [nbformat.v4.new_markdown_cell("**Question.** Why?\n\n<details><summary>Hint</summary>"
                                           "Look.</details>"),
             nbformat.v4.new_markdown_cell("<details><summary>Model answer</summary>\n\nBecause."
                                           "\n\n</details>", metadata={"tags": ["answer"]})]
    copy, counts = student.student_copy(nbformat.v4.new_notebook(cells=cells))
    assert [cell.source for cell in copy.cells] == [cells[0].source, "YOUR ANSWER HERE"]
    assert counts == {"solutions": 0, "model answers": 1}


def test_answer_tag_on_a_code_cell_fails_loudly():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1",
                                                                    metadata={"tags": ["answer"]})])
    with pytest.raises(student.SolutionMarkerError, match="markdown cell"):
        student.student_copy(nb)


def test_model_answer_removed_and_hint_kept():
    text = ("Why?\n\n<details><summary>Hint</summary>Look.</details>\n\n"
            "<details><summary>Model answer</summary>\n\nBecause.\n\n</details>\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    copy, counts = student.student_copy(nb)
    assert copy.cells[0].source == "Why?\n\n<details><summary>Hint</summary>Look.</details>"
    assert counts["model answers"] == 1


@pytest.mark.parametrize("source, tags, message", [
    ("### BEGIN SOLUTION\nx = 1", ["solution"], "has no '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION", ["solution"], "without a '### BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", ["solution"], "inside the region"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", [], "no `solution` tag"),
    ("x = 1", ["solution"], "has no '### BEGIN SOLUTION'"),
], ids=["no-end", "no-begin", "nested", "untagged", "tag-without-region"])
def test_bad_markers_fail_loudly(tmp_path, source, tags, message):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": tags})])
    with pytest.raises(student.SolutionMarkerError, match=re.escape(message)):
        student.student_copy(nb)
    nbformat.write(nb, tmp_path / "bad.ipynb")
    run = subprocess.run([sys.executable, "tools/student.py", "--out", str(tmp_path / "out"),
                          str(tmp_path / "bad.ipynb")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1 and "bad.ipynb, cell 1" in run.stderr
    assert not (tmp_path / "out").exists()


def test_student_copies_are_deterministic(tmp_path):
    for out in ("first", "second"):
        subprocess.run([sys.executable, "tools/student.py", "--out", str(tmp_path / out),
                        *map(str, SOURCES)], cwd=ROOT, check=True, capture_output=True)
    for path in SOURCES:
        first, second = (tmp_path / out / path.name for out in ("first", "second"))
        assert first.read_bytes() == second.read_bytes(), path.name


# (d) the static site -------------------------------------------------------------------------


def png_outputs(nb):
    return sum("image/png" in output.get("data", {})
               for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


def check_site(paths, out):
    """Every page exists, is in the index (with a line on what it teaches and a thumbnail),
    links to its neighbours and to the same notebook in the JupyterLite site, shows every
    figure, reads offline (MathJax copied into the site, nothing from the network)."""
    subprocess.run([sys.executable, "tools/site.py", "--out", str(out), *map(str, paths)],
                   cwd=ROOT, check=True, capture_output=True)
    index = (out / "index.html").read_text(encoding="utf-8")
    names = [f"{path.stem}.html" for path in paths]
    lite = "../lite/lab/index.html?path="  # tools/site.py's default --lite-url
    assert (out / "mathjax" / "MathJax.js").is_file()
    for i, (path, name) in enumerate(zip(paths, names)):
        nb = read(path)
        title = next(line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                     for line in c.source.splitlines() if line.startswith("# "))
        assert re.search(rf'<a class="title" href="{re.escape(name)}">', index)
        assert html.escape(title.replace("`", "")) in re.sub(r"<[^>]+>", "", index)
        entry = index.split(f'class="title" href="{name}"')[1].split("</li>")[0]
        assert re.search(r"<p>\S[^<]*(?:<code>[^<]*</code>[^<]*)*[.!?]</p>", entry), entry
        assert f'href="{lite}notebooks/{path.name}"' in entry
        assert f'href="{lite}student/{path.name}"' in entry
        if png_outputs(nb):
            assert (out / "thumbs" / f"{path.stem}.png").read_bytes().startswith(b"\x89PNG")
            assert f'src="thumbs/{path.stem}.png"' in index
        page = (out / name).read_text(encoding="utf-8")
        # each link twice: in the navigation bar at the top and at the bottom
        assert re.findall(r'<a href="([^"]+)" rel="prev">', page) == names[i - 1:i] * 2 * (i > 0)
        assert re.findall(r'<a href="([^"]+)" rel="next">', page) == names[i + 1:i + 2] * 2
        assert page.count('<a href="index.html">Contents</a>') == page.count(">Contents</a>") == 2
        assert page.count(f'href="{lite}notebooks/{path.name}"') == 2
        figures = re.findall(r'<img\b[^>]*\ssrc="data:image/png;base64,', page)
        pngs = png_outputs(nb)
        assert len(figures) == pngs, f"{name}: {len(figures)} figures for {pngs} PNG outputs"
        assert not re.findall(rf'href="(?!{re.escape(lite)})[^"]*\.ipynb', page), \
            f"{name}: links to notebooks, not pages"
        assert re.search(r'<script defer(?:="")? src="mathjax/MathJax\.js\?', page)
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page):
            if re.search(r'\s(?:src|href)="(?:https?:)?//', tag):  # fetched from the network
                assert tag.startswith("<script") and "require" in tag \
                    and re.search(r"\s(?:defer|async)\b", tag), \
                    f"{name}: the page fetches from the network: {tag}"


def test_site_from_the_fixture(tmp_path):
    nb = read(FIXTURE)
    # as tools/navigation.py leaves them: a navigation cell first and last, linking .ipynb files
    links = "<!-- navigation -->\n[Contents](../README.md#notebooks) | [01. One](01-lesson.ipynb) >"
    nb.cells = [nbformat.v4.new_markdown_cell(links), *nb.cells, nbformat.v4.new_markdown_cell(links)]
    nb.cells[3].source += "\n\nAs in [the first lesson](01-lesson.ipynb#Exercises)."  # markdown
    paths = []
    for number, title in enumerate(["One", "Two", "Three"], start=1):
        heading = f"# 0{number}. Lesson `{title}`"  # a code span, as titles may have
        nb.cells[1].source = re.sub(r"^# .*", heading, nb.cells[1].source, count=1)
        paths.append(tmp_path / "notebooks" / f"0{number}-lesson.ipynb")
        paths[-1].parent.mkdir(exist_ok=True)
        nbformat.write(nb, paths[-1])
    assert png_outputs(nb) > 0
    check_site(paths, tmp_path / "html")


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks in notebooks/ yet")
def test_site_from_the_notebooks(tmp_path):
    check_site(NOTEBOOKS, tmp_path / "html")


# (e) what a student copy holds, and what it must not ----------------------------------------

# Taught in the main text (notebooks 02 and 04) and named in the summaries.
KEY_TERMS = ["weight sharing", "locality", "equivariance", "transposed convolution"]
SUMMARY_HEADING = "## Summary"


def term_pattern(term):
    """`term` as words, any case, a hyphen or a line break allowed between them."""
    return re.compile(r"\b" + r"[\s-]+".join(map(re.escape, term.split())) + r"\b", re.IGNORECASE)


def main_text_and_summary(nb):
    """(the lesson's markdown before its summary, the summary's markdown)."""
    text = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    start = next((k for k, t in enumerate(text) if t.lstrip().startswith(SUMMARY_HEADING)), len(text))
    end = next((k for k, t in enumerate(text) if k > start and t.lstrip().startswith("## ")),
               len(text))
    return "\n".join(text[:start]), "\n".join(text[start:end])


@pytest.mark.parametrize("term", KEY_TERMS)
def test_key_terms_are_taught_in_the_student_copies(term):
    pattern = term_pattern(term)
    copies = {path.name: main_text_and_summary(student_copy(path)) for path in NOTEBOOKS}
    taught = [name for name, (main, _) in copies.items() if pattern.search(main)]
    summed_up = [name for name, (_, summary) in copies.items() if pattern.search(summary)]
    assert taught, f"{term!r} is in the main text of no student copy"
    assert summed_up, f"{term!r} is in the summary of no student copy"


def test_term_pattern():
    assert term_pattern("weight sharing").search("explains Weight-\nsharing here")
    assert not term_pattern("locality").search("localityless")


def exercises(nb):
    """[(heading, [cell indices])]: each exercise's cells, from its `### Exercise` heading to the
    next heading of level 1-3 (or the navigation cell at the end)."""
    found = []
    for i, cell in enumerate(nb.cells):
        lines = cell.source.splitlines() if cell.cell_type == "markdown" else []
        lines = [] if tagged(cell, "answer") else lines  # a model answer opens and closes nothing
        fences = [k for k, line in enumerate(lines) if re.match(r"\s{0,3}(```|~~~)", line)]
        for start, end in zip(fences[::2], fences[1::2] + [len(lines)]):  # no code blocks
            lines[start:end + 1] = [""] * (min(end + 1, len(lines)) - start)
        if cell.source.startswith("<!-- navigation -->"):
            lines = ["## navigation"]
        for line in lines:
            if line.startswith("### Exercise"):
                found.append((line[4:].strip(), []))
            elif re.match(r"#{1,3} ", line) and found and found[-1][1] is not None:
                found[-1] = (found[-1][0], [*found[-1][1], None])  # closed
        if found and (not found[-1][1] or found[-1][1][-1] is not None):
            found[-1][1].append(i)
    return [(heading, [i for i in cells if i is not None]) for heading, cells in found]


def cell_text(cell):
    """A cell's source and every text it shows: prints, results, errors."""
    parts = [cell.source]
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts += [output.get("ename", ""), output.get("evalue", "")]
    return "\n".join(parts)


TOKEN = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\w+|\S")


def answer_pattern(answer):
    """A regex that finds `answer` written as a whole token, with any spacing between its parts.

    Numbers are whole: "7" is not in "0.7", "17", "7.5", "x7", "7,000" or "7_000", but is in
    "(6, 7)" and "7." at the end of a sentence. "44,251,200" is also found as 44251200 and
    44_251_200.
    """
    variants = [answer.strip()]
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", variants[0]):
        variants += [variants[0].replace(",", ""), variants[0].replace(",", "_")]
    alternatives = []
    for variant in variants:
        tokens = TOKEN.findall(variant)
        body = r"\s*".join(map(re.escape, tokens))
        before = r"(?<![\w.])" if re.match(r"\w", variant) else ""
        if re.match(r"\d{3}(?!\d)", variant):
            before += r"(?<!\d,)"  # not the last groups of a number with thousands separators
        after = r"(?![\w])(?!\.\d)(?!,\d{3}(?!\d))(?!_\d)" if re.search(r"\w$", variant) else ""
        alternatives.append(before + body + after)
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@pytest.mark.parametrize("answer, text, found", [
    ("7", "the answer is 7.", True),
    ("7", "shape (6, 7)", True),
    ("7", "0.7", False),
    ("7", "17 or 71", False),
    ("7", "7.5", False),
    ("7", "7,000 and 7_000", False),
    ("7", "x7 = 1", False),
    ("0.7", "about 0.75", False),
    ("0.7", "about 0.7, not more", True),
    ("44,251,200", "n == 44251200", True),
    ("44,251,200", "n == 44_251_200", True),
    ("44,251,200", "44,251,2000", False),
    ("251", "44,251,200", False),
    ("(6, 7)", "[(6,7), (32, 32)]", True),
    ("[[-12, 12]]", "grad [[-12.,  12.]]", False),
    ("[[-12, 12]]", "grad [[-12, 12]]", True),
    ("smaller", "it is Smaller", False),
])
def test_answer_pattern(answer, text, found):
    assert bool(answer_pattern(answer).search(text)) == found


@parametrize_sources
def test_every_solution_lists_the_answer_values_it_asks_for(path):
    nb = read(path)
    unlisted = [exercise_of(nb, i) for i, cell in enumerate(nb.cells) if tagged(cell, "solution")
                and not isinstance(cell.metadata.get("d2lmini", {}).get("answers"), list)]
    assert not unlisted, (f"{path.name}: solution cells without metadata d2lmini.answers in "
                          f"{unlisted}; list the literal values the exercise asks for (as "
                          "strings), or [] when it asks for none")
    wrong = [exercise_of(nb, i) for i, cell in enumerate(nb.cells) if tagged(cell, "solution")
             if not all(isinstance(a, str) and a.strip() for a in cell.metadata.d2lmini.answers)]
    assert not wrong, f"{path.name}: d2lmini.answers must be non-empty strings, in {wrong}"


@parametrize_sources
def test_answer_values_do_not_appear_in_the_student_copy(path):
    nb, copy = read(path), student_copy(path)
    assert [h for h, _ in exercises(nb)] == [h for h, _ in exercises(copy)]
    leaks = []
    for (heading, cells), (_, copy_cells) in zip(exercises(nb), exercises(copy)):
        answers = [a for i in cells if tagged(nb.cells[i], "solution")
                   for a in nb.cells[i].metadata.get("d2lmini", {}).get("answers", [])]
        text = "\n".join(cell_text(copy.cells[i]) for i in copy_cells)
        leaks += [f"{heading}: {answer!r}" for answer in answers if answer_pattern(answer).search(text)]
    assert not leaks, f"{path.name}: answer values in the student copy: {leaks}"


def test_a_planted_answer_is_found():
    nb = read(FIXTURE)
    heading, cells = exercises(nb)[-1]
    solution = next(i for i in cells if tagged(nb.cells[i], "solution"))
    answer = nb.cells[solution].metadata.d2lmini.answers[0]
    check = next(i for i in cells if tagged(nb.cells[i], "self-check"))
    nb.cells[check].source += f"\nassert n_edge_pixels == {answer}"
    copy = student.student_copy(nb)[0]
    text = "\n".join(cell_text(copy.cells[i]) for i in exercises(copy)[-1][1])
    assert answer_pattern(answer).search(text)
