"""Re-execute notebooks top to bottom and save them in place, deterministically.

Usage: python tools/run_notebooks.py [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)

Each notebook runs in a fresh kernel of this Python (the one running the script), in
the notebook's folder (notebooks/), as under nbval. Outputs are saved with execution
counts 1..n, no timing metadata and version-free notebook metadata, so a re-run on
another machine changes only what the code prints. A cell that raises stops the run
with a non-zero exit, unless the cell carries the `raises-exception` tag.
"""

import sys
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT = 120  # seconds per cell
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
TIMING_KEYS = ("execution", "ExecuteTime")  # per-cell metadata that changes on every run


class ThisPython(KernelSpecManager):
    """Kernel specs that all start ipykernel in the interpreter running this script."""

    def get_kernel_spec(self, kernel_name):
        # Minimal tracebacks: an error cell stores its type and message, not this machine's paths.
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                "--InteractiveShell.xmode=Minimal"]
        display_name = METADATA["kernelspec"]["display_name"]
        return KernelSpec(argv=argv, language="python", display_name=display_name)


def fresh_id(index, taken):
    """A deterministic cell id, 'cell-07', unless that one is taken."""
    candidate, suffix = f"cell-{index:02d}", 1
    while candidate in taken:
        candidate, suffix = f"cell-{index:02d}-{suffix}", suffix + 1
    return candidate


def normalize(nb):
    """Fix the metadata, cell ids, execution counts and stream outputs in place; return nb."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict(METADATA)
    taken = {cell.get("id") for cell in nb.cells}
    count = 0
    for index, cell in enumerate(nb.cells, start=1):
        if not cell.get("id"):
            cell.id = fresh_id(index, taken)
            taken.add(cell.id)
        for key in TIMING_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        executed = bool(cell.source.strip())
        count += executed
        cell.execution_count = count if executed else None
        cell.outputs = merged_streams(cell.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = cell.execution_count
    return nb


def merged_streams(outputs):
    """Join consecutive prints to the same stream into one output: how the kernel happened to
    split them into messages depends on timing, and would change the file from run to run."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def execute(nb, folder, allow_errors=False):
    """Run `nb` top to bottom in a fresh kernel of this Python, in `folder`; return it.

    With `allow_errors` every error stays in the outputs; otherwise the first error in a cell
    without the `raises-exception` tag raises CellExecutionError.
    """
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())
    client = NotebookClient(nb, km=km, timeout=TIMEOUT, kernel_name="python3",
                            allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    try:
        client.execute(cleanup_kc=True)  # closes the channels of a km we own
    finally:
        if km.has_kernel:  # we made km, so the client leaves it to us
            km.shutdown_kernel(now=True)
    return nb


def run(path):
    """Execute one notebook file and write it back."""
    nb = normalize(nbformat.read(path, as_version=4))  # ids before running
    execute(nb, path.resolve().parent)
    nbformat.write(normalize(nb), path)  # nbformat writes indent 1 and a trailing newline


def main(argv):
    paths = [Path(arg) for arg in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
    for path in paths:
        print(f"running {path} ...", flush=True)
        try:
            run(path)
        except CellExecutionError as error:
            print(f"FAILED {path}:\n{error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
